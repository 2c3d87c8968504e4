import { and, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import { cases } from '../../db/schema/index.js';
import type { Principal } from '../staff/principal.js';
import { coveredBy } from '../staff/store.js';

/** Statuses an analyst may read: triage work, nothing after it. */
export const ANALYST_STATUSES = ['flagged', 'accepted', 'rejected'] as const;

/**
 * The SQL filter for the cases a caller may see. Out of scope is indistinguishable from missing
 * (404): an intervener sees only what is assigned to them now (and, while covering an absent
 * colleague, that colleague's active cases, to the second of the absence), an admin no case
 * contents at all.
 */
export function caseScope(p: Principal | Principal['role']): SQL {
  // A role alone gives the filter with placeholders (`programId`, `staffId`) for prepared queries.
  const role = typeof p === 'string' ? p : p.role;
  const programId = typeof p === 'object' ? p.programId! : sql.placeholder('programId');
  const staffId = typeof p === 'object' ? p.staffId : sql.placeholder('staffId');
  switch (role) {
    case 'lead':
      return eq(cases.programId, programId);
    case 'analyst':
      return and(eq(cases.programId, programId), inArray(cases.status, [...ANALYST_STATUSES]))!;
    case 'intervener':
      return and(or(eq(cases.assigneeId, staffId), sql`${cases.assigneeId} in ${coveredBy(staffId)}`), eq(cases.status, 'active'))!;
    default:
      return sql`false`;
  }
}
