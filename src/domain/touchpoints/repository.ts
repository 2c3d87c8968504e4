import { and, asc, desc, eq, gt, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { type Approach, assignments, cases, touchpoints } from '../../db/schema/index.js';
import { appendAudit, auditEvent } from '../audit/log.js';
import { loadCase, programSettings } from '../cases/repository.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid } from '../errors.js';
import { hasOutstandingFollowUp, insertFollowUp } from '../followups/schedule.js';
import { ms } from '../programs/settings.js';
import { responseSlaJob } from '../reminders/jobs.js';
import { deriveStage } from './stage.js';

export type TouchpointRow = typeof touchpoints.$inferSelect;

const CLOCK_SKEW_MS = 60_000;

export interface TouchpointInput {
  direction: TouchpointRow['direction'];
  channel: TouchpointRow['channel'];
  occurredAt: Date;
  approaches?: Approach[];
  sentiment?: TouchpointRow['sentiment'];
  costCents?: number | null;
  summary?: string | null;
}

export function toTouchpointView(t: TouchpointRow) {
  return {
    id: t.id,
    caseId: t.caseId,
    direction: t.direction,
    channel: t.channel,
    occurredAt: t.occurredAt,
    approaches: t.approaches ?? [],
    sentiment: t.sentiment,
    costCents: t.costCents,
    summary: t.summary,
    loggedBy: t.loggedBy,
    createdAt: t.createdAt,
  };
}

async function answeredAfter(tx: Tx, caseId: string, at: Date): Promise<boolean> {
  const rows = await tx
    .select({ id: touchpoints.id })
    .from(touchpoints)
    .where(and(eq(touchpoints.caseId, caseId), eq(touchpoints.direction, 'outbound'), gt(touchpoints.occurredAt, at)))
    .limit(1);
  return rows.length > 0;
}

/** Who held the case when the touchpoint happened (falls back to the holder now). */
async function holderAt(tx: Tx, caseId: string, at: Date, current: string | null): Promise<string | null> {
  const [row] = await tx
    .select({ staffId: assignments.staffId })
    .from(assignments)
    .where(and(eq(assignments.caseId, caseId), lte(assignments.startedAt, at), or(isNull(assignments.endedAt), gt(assignments.endedAt, at))))
    .orderBy(desc(assignments.startedAt))
    .limit(1);
  return row?.staffId ?? current;
}

/**
 * Records a message a person sent or received outside the system, and keeps the case's stage,
 * stage timestamps and counters right in the same transaction, whatever order touchpoints
 * arrive in. An outbound message with nothing outstanding schedules the next follow-up.
 */
export async function logTouchpoint(tx: Tx, ctx: Ctx, caseId: string, input: TouchpointInput): Promise<TouchpointRow> {
  const found = await loadCase(tx, ctx, caseId, { lock: true });
  const c = found.case;
  const now = ctx.clock.now();
  const allowed = input.direction === 'outbound' ? ['active'] : ['active', 'closed'];
  if (!allowed.includes(c.status)) {
    throw new DomainError(409, 'touchpoint.case_not_active', `Cannot log an ${input.direction} touchpoint on a case that is ${c.status}.`, {
      currentStatus: c.status,
    });
  }
  if (input.occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw invalid('touchpoint.in_future', 'occurredAt may be in the past (logged late), never in the future.', 'body.occurredAt');
  }
  if (input.occurredAt < c.flaggedAt) {
    throw invalid('touchpoint.before_flagged', 'occurredAt cannot be before the case was flagged.', 'body.occurredAt');
  }
  const [row] = await tx
    .insert(touchpoints)
    .values({
      id: uuidv7(),
      caseId,
      programId: c.programId,
      direction: input.direction,
      channel: input.channel,
      occurredAt: input.occurredAt,
      approaches: input.approaches ? [...new Set(input.approaches)] : null,
      sentiment: input.sentiment ?? null,
      costCents: input.costCents ?? null,
      summary: input.summary ?? null,
      loggedBy: ctx.principal.staffId,
      holderId: await holderAt(tx, caseId, input.occurredAt, c.assigneeId),
      awaitingResponse: input.direction === 'inbound' && !(await answeredAfter(tx, caseId, input.occurredAt)),
      createdAt: now,
    })
    .returning();
  if (input.direction === 'outbound') {
    // Earlier inbound messages are answered now: no response-SLA reminder for them.
    await tx
      .update(touchpoints)
      .set({ awaitingResponse: false })
      .where(and(eq(touchpoints.caseId, caseId), eq(touchpoints.awaitingResponse, true), lt(touchpoints.occurredAt, input.occurredAt)));
  }

  const settings = await programSettings(tx, c.programId);
  if (row!.awaitingResponse) ctx.jobs.push(responseSlaJob(row!, settings, now));
  const all = await tx
    .select({
      direction: touchpoints.direction,
      occurredAt: touchpoints.occurredAt,
      holderId: touchpoints.holderId,
      approaches: touchpoints.approaches,
      costCents: touchpoints.costCents,
    })
    .from(touchpoints)
    .where(eq(touchpoints.caseId, caseId))
    .orderBy(asc(touchpoints.occurredAt), asc(touchpoints.id));
  const facts = deriveStage(all, { minMessages: settings.sustainedMinMessages, minInbound: settings.sustainedMinInbound });
  await tx
    .update(cases)
    .set({ ...facts, version: sql`${cases.version} + 1`, updatedAt: now })
    .where(eq(cases.id, caseId));

  if (input.direction === 'outbound' && !(await hasOutstandingFollowUp(tx, caseId))) {
    await insertFollowUp(tx, ctx, {
      caseId,
      programId: c.programId,
      assigneeId: c.assigneeId,
      dueAt: new Date(input.occurredAt.getTime() + ms(settings, 'followUpAfter')),
      kind: 'follow_up',
    });
  }
  await appendAudit(tx, [auditEvent(ctx, 'touchpoint.create', 'touchpoint', row!.id, c.programId, caseId)], now);
  return row!;
}

export async function listTouchpoints(tx: Tx, ctx: Ctx, caseId: string, page: { limit: number; after?: [string, string] }) {
  const found = await loadCase(tx, ctx, caseId);
  const after = page.after;
  const rows = await tx
    .select()
    .from(touchpoints)
    .where(
      and(
        eq(touchpoints.caseId, caseId),
        after ? sql`(${touchpoints.occurredAt}, ${touchpoints.id}) > (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(touchpoints.occurredAt), asc(touchpoints.id))
    .limit(page.limit + 1);
  await ctx.recordRead([auditEvent(ctx, 'touchpoint.list', 'case', caseId, found.case.programId)]);
  return rows;
}
