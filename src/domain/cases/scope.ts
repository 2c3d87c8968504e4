import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { cases } from '../../db/schema/index.js';
import type { Principal } from '../staff/principal.js';

/** Statuses an analyst may read: triage work, nothing after it. */
export const ANALYST_STATUSES = ['flagged', 'accepted', 'rejected'] as const;

/**
 * The SQL filter for the cases a caller may see. Out of scope is indistinguishable from missing
 * (404): an intervener sees only what is assigned to them now, an admin no case contents at all.
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
      return and(eq(cases.assigneeId, staffId), eq(cases.status, 'active'))!;
    default:
      return sql`false`;
  }
}
