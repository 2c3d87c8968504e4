import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { cases } from '../../db/schema/index.js';
import type { Principal } from '../staff/principal.js';

/** Statuses an analyst may read: triage work, nothing after it. */
export const ANALYST_STATUSES = ['flagged', 'accepted', 'rejected'] as const;

/**
 * The SQL filter for the cases a caller may see. Out of scope is indistinguishable from missing
 * (404): an intervener sees only what is assigned to them now, an admin no case contents at all.
 */
export function caseScope(p: Principal): SQL {
  switch (p.role) {
    case 'lead':
      return eq(cases.programId, p.programId!);
    case 'analyst':
      return and(eq(cases.programId, p.programId!), inArray(cases.status, [...ANALYST_STATUSES]))!;
    case 'intervener':
      return and(eq(cases.assigneeId, p.staffId), eq(cases.status, 'active'))!;
    default:
      return sql`false`;
  }
}
