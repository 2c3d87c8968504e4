import type { Tx } from '../../db/client.js';
import type { Ctx } from '../context.js';
import { followUpDueJob } from '../reminders/jobs.js';
import { type FollowUpRow, insertFollowUpRow } from './store.js';

export { OUTSTANDING } from './rules.js';
export type { FollowUpRow } from './store.js';

export interface NewFollowUp {
  caseId: string;
  programId: string;
  assigneeId: string | null;
  dueAt: Date;
  kind: FollowUpRow['kind'];
  note?: string | null;
}

/** Inserts a pending follow-up and asks for its delayed `due` job (enqueued after commit). */
export async function insertFollowUp(tx: Tx, ctx: Ctx, f: NewFollowUp): Promise<FollowUpRow> {
  const row = await insertFollowUpRow(tx, {
    caseId: f.caseId,
    programId: f.programId,
    assigneeId: f.assigneeId,
    dueAt: f.dueAt,
    kind: f.kind,
    note: f.note ?? null,
    createdBy: ctx.principal.staffId,
    createdAt: ctx.clock.now(),
  });
  ctx.jobs.push(followUpDueJob(row, ctx.clock.now()));
  return row;
}
