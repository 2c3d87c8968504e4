import { and, asc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { cases, followUps } from '../../db/schema/index.js';
import { appendAudit, auditEvent, listReadEvents } from '../audit/log.js';
import { holdCaseAgainstErasure, loadCaseForWrite } from '../cases/repository.js';
import { caseScope } from '../cases/scope.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid, notFound } from '../errors.js';
import { followUpDueJob } from '../reminders/jobs.js';
import type { Principal } from '../staff/principal.js';
import { type FollowUpRow, insertFollowUp, OUTSTANDING } from './schedule.js';

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

/**
 * The follow-ups a caller may see or act on, as SQL over follow_ups joined to their case: a lead
 * the program's, an intervener those assigned to them on a case they hold now; nobody else any.
 */
function followUpScope(p: Principal): SQL {
  switch (p.role) {
    case 'lead':
      return and(eq(followUps.programId, p.programId!), caseScope(p))!;
    case 'intervener':
      return and(eq(followUps.assigneeId, p.staffId), caseScope(p))!;
    default:
      return sql`false`;
  }
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
    throw new DomainError(409, 'follow_up.case_not_active', `Follow-ups need an active case; this one is ${c.status}.`, { currentStatus: c.status });
  }
  const now = ctx.clock.now();
  if (input.dueAt.getTime() < now.getTime()) {
    throw invalid('follow_up.due_in_past', 'dueAt must not be in the past.', 'body.dueAt');
  }
  const row = await insertFollowUp(tx, ctx, {
    caseId,
    programId: c.programId,
    assigneeId: c.assigneeId,
    dueAt: input.dueAt,
    kind: input.kind,
    note: input.note?.trim() ? input.note.trim() : null,
  });
  await appendAudit(tx, [auditEvent(ctx, 'follow_up.create', 'follow_up', row.id, c.programId, c.id)], now);
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
  const where: (SQL | undefined)[] = [followUpScope(ctx.principal)];
  if (f.status) where.push(eq(followUps.status, f.status));
  if (f.assigneeId) where.push(eq(followUps.assigneeId, f.assigneeId));
  if (f.caseId) where.push(eq(followUps.caseId, f.caseId));
  if (f.dueFrom) where.push(gte(followUps.dueAt, f.dueFrom));
  if (f.dueTo) where.push(lt(followUps.dueAt, f.dueTo));
  if (f.after) where.push(sql`(${followUps.dueAt}, ${followUps.id}) > (${f.after[0].toISOString()}::timestamptz, ${f.after[1]}::uuid)`);
  const rows = await tx
    .select({ followUp: followUps })
    .from(followUps)
    .innerJoin(cases, eq(cases.id, followUps.caseId))
    .where(and(...where))
    .orderBy(asc(followUps.dueAt), asc(followUps.id))
    .limit(f.limit + 1);
  const shown = rows.slice(0, f.limit).map((r) => r.followUp.caseId);
  await appendAudit(tx, listReadEvents(ctx, 'follow_up.list', 'follow_up', ctx.principal.programId, shown), ctx.clock.now());
  return rows.map((r) => r.followUp);
}

/**
 * Reads a follow-up in the caller's scope and locks it for the rest of the transaction, after
 * its case (the order erasure locks them in), which must not be erased.
 */
async function loadFollowUp(tx: Tx, ctx: Ctx, id: string): Promise<FollowUpRow> {
  const scoped = () =>
    tx
      .select({ followUp: followUps })
      .from(followUps)
      .innerJoin(cases, eq(cases.id, followUps.caseId))
      .where(and(eq(followUps.id, id), followUpScope(ctx.principal)));
  const [seen] = await scoped();
  if (!seen) throw notFound('follow_up');
  await holdCaseAgainstErasure(tx, seen.followUp.caseId);
  const [row] = await scoped().for('update', { of: followUps });
  if (!row) throw notFound('follow_up');
  return row.followUp;
}

type FollowUpAction = 'complete' | 'snooze' | 'cancel';

/** Every change bumps `version`, so a reminder job made for an older version finds itself stale. */
async function act(tx: Tx, ctx: Ctx, id: string, action: FollowUpAction, changes: Partial<typeof followUps.$inferInsert>) {
  const current = await loadFollowUp(tx, ctx, id);
  if (!(OUTSTANDING as readonly string[]).includes(current.status)) {
    throw new DomainError(409, 'follow_up.invalid_transition', `Cannot ${action} a follow-up that is ${current.status}.`, {
      currentStatus: current.status,
    });
  }
  const [row] = await tx
    .update(followUps)
    .set({ ...changes, version: sql`${followUps.version} + 1` })
    .where(and(eq(followUps.id, id), inArray(followUps.status, [...OUTSTANDING])))
    .returning();
  await appendAudit(tx, [auditEvent(ctx, `follow_up.${action}`, 'follow_up', id, current.programId, current.caseId)], ctx.clock.now());
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
