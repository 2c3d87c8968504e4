import type { CaseStatus } from './workflow.js';

/** Statuses in which a profile counts as having an open case (and erasure closes the case). */
export const OPEN_STATUSES: readonly CaseStatus[] = ['flagged', 'accepted', 'approved', 'active'];
