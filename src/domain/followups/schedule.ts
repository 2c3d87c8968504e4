import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { followUps } from '../../db/schema/index.js';
import type { Ctx } from '../context.js';
import { followUpDueJob } from '../reminders/jobs.js';

export type FollowUpRow = typeof followUps.$inferSelect;
export const OUTSTANDING = ['pending', 'due', 'overdue'] as const;

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
  const [row] = await tx
    .insert(followUps)
    .values({
      id: uuidv7(),
      caseId: f.caseId,
      programId: f.programId,
      assigneeId: f.assigneeId,
      dueAt: f.dueAt,
      kind: f.kind,
      note: f.note ?? null,
      createdBy: ctx.principal.staffId,
      createdAt: ctx.clock.now(),
    })
    .returning();
  ctx.jobs.push(followUpDueJob(row!, ctx.clock.now()));
  return row!;
}
