import type { Tx } from '../../db/client.js';
import { auditEvent, listReadEvents } from '../audit/log.js';
import { holdCaseAgainstErasure, loadCaseForWrite } from '../cases/service.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid, notFound } from '../errors.js';
import { followUpDueJob } from '../reminders/jobs.js';
import { loadSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import { insertFollowUp, OUTSTANDING } from './schedule.js';
import { type FollowUpChanges, type FollowUpRow, findFollowUpInScope, listFollowUpsInScope, updateOutstandingFollowUp } from './store.js';

export type FollowUpStatus = FollowUpRow['status'];

export function toFollowUpView(f: FollowUpRow) {
  return {
    id: f.id,
    caseId: f.caseId,
    assigneeId: f.assigneeId,
    dueAt: f.dueAt,
    kind: f.kind,
    note: f.note,
    status: f.status,
    createdAt: f.createdAt,
    completedAt: f.completedAt,
  };
}

export interface NewFollowUpInput {
  dueAt: Date;
  kind: FollowUpRow['kind'];
  note?: string | null;
}

/** A reminder for the case's current holder; only an active case has someone to remind. */
export async function createFollowUp(tx: Tx, ctx: Ctx, caseId: string, input: NewFollowUpInput): Promise<FollowUpRow> {
  const { case: c } = await loadCaseForWrite(tx, ctx, caseId);
  if (c.status !== 'active') {
    throw new DomainError(409, 'follow_up.case_not_active', `Follow-ups need an active case; this one is ${c.status}.`, {
      currentStatus: c.status,
    });
  }
  const now = ctx.clock.now();
  if (input.dueAt.getTime() < now.getTime()) {
    throw invalid('follow_up.due_in_past', 'dueAt must not be in the past.', 'body.dueAt');
  }
  checkFreeText(await loadSettings(tx, c.programId), { 'body.note': input.note });
  const row = await insertFollowUp(tx, ctx, {
    caseId,
    programId: c.programId,
    assigneeId: c.assigneeId,
    dueAt: input.dueAt,
    kind: input.kind,
    note: input.note?.trim() ? input.note.trim() : null,
  });
  ctx.audit(auditEvent(ctx, 'follow_up.create', 'follow_up', row.id, c.programId, c.id));
  return row;
}

export interface FollowUpFilter {
  status?: FollowUpStatus;
  assigneeId?: string;
  caseId?: string;
  dueFrom?: Date;
  dueTo?: Date;
  limit: number;
  /** The last (dueAt, id) seen. */
  after?: [Date, string];
}

/** Ordered by (dueAt, id): what is due soonest first. dueFrom is inclusive, dueTo exclusive. */
export async function listFollowUps(tx: Tx, ctx: Ctx, f: FollowUpFilter): Promise<FollowUpRow[]> {
  if (f.dueFrom && f.dueTo && f.dueFrom.getTime() > f.dueTo.getTime()) {
    throw invalid('follow_up.invalid_range', 'dueFrom must not be after dueTo.', 'querystring.dueTo');
  }
  const { limit, ...filter } = f;
  const rows = await listFollowUpsInScope(tx, ctx.principal, filter, limit + 1);
  const shown = rows.slice(0, f.limit).map((r) => r.caseId);
  ctx.audit(...listReadEvents(ctx, 'follow_up.list', 'follow_up', ctx.principal.programId, shown));
  return rows;
}

/**
 * Reads a follow-up in the caller's scope and locks it for the rest of the transaction, after
 * its case (the order erasure locks them in), which must not be erased.
 */
async function loadFollowUp(tx: Tx, ctx: Ctx, id: string): Promise<FollowUpRow> {
  const seen = await findFollowUpInScope(tx, ctx.principal, id);
  if (!seen) throw notFound('follow_up');
  await holdCaseAgainstErasure(tx, seen.caseId);
  const row = await findFollowUpInScope(tx, ctx.principal, id, { lock: true });
  if (!row) throw notFound('follow_up');
  return row;
}

type FollowUpAction = 'complete' | 'snooze' | 'cancel';

/** Every change bumps `version`, so a reminder job made for an older version finds itself stale. */
async function act(tx: Tx, ctx: Ctx, id: string, action: FollowUpAction, changes: FollowUpChanges) {
  const current = await loadFollowUp(tx, ctx, id);
  if (!(OUTSTANDING as readonly string[]).includes(current.status)) {
    throw new DomainError(409, 'follow_up.invalid_transition', `Cannot ${action} a follow-up that is ${current.status}.`, {
      currentStatus: current.status,
    });
  }
  const row = await updateOutstandingFollowUp(tx, id, changes);
  ctx.audit(auditEvent(ctx, `follow_up.${action}`, 'follow_up', id, current.programId, current.caseId));
  return row!;
}

export function completeFollowUp(tx: Tx, ctx: Ctx, id: string) {
  return act(tx, ctx, id, 'complete', { status: 'done', completedAt: ctx.clock.now() });
}

export function cancelFollowUp(tx: Tx, ctx: Ctx, id: string) {
  return act(tx, ctx, id, 'cancel', { status: 'cancelled', cancelledAt: ctx.clock.now() });
}

/** Moves the reminder to `until` and re-arms it: it may fire (and escalate) again. */
export async function snoozeFollowUp(tx: Tx, ctx: Ctx, id: string, until: Date) {
  if (until.getTime() <= ctx.clock.now().getTime()) {
    throw invalid('follow_up.until_in_past', 'until must be in the future.', 'body.until');
  }
  const row = await act(tx, ctx, id, 'snooze', { dueAt: until, status: 'pending', dueNotifiedAt: null, overdueNotifiedAt: null });
  // A new version: jobs for the old one are now stale, this one fires at `until`.
  ctx.jobs.push(followUpDueJob(row, ctx.clock.now()));
  return row;
}
