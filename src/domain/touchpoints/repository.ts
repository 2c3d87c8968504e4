import { and, asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { hotQuery, insertReturning, setList } from '../../db/hot.js';
import { uuidv7 } from '../../db/ids.js';
import { type Approach, cases, touchpoints } from '../../db/schema/index.js';
import { appendAudit, auditEvent } from '../audit/log.js';
import { loadCase, loadCaseForWrite } from '../cases/repository.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid } from '../errors.js';
import { insertFollowUp, OUTSTANDING } from '../followups/schedule.js';
import { ms, resolveSettings } from '../programs/settings.js';
import { responseSlaJob } from '../reminders/jobs.js';
import { deriveStage, type StageFacts } from './stage.js';

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

const INSERTED = [
  'id', 'caseId', 'programId', 'direction', 'channel', 'occurredAt', 'approaches', 'sentiment', 'costCents', 'summary', 'loggedBy',
  'holderId', 'awaitingResponse', 'createdAt',
] as const;
const INSERT_SQL = insertReturning(touchpoints, INSERTED);

/** Every column deriveStage decides (a fact it gains fails to compile until it is listed). */
const STAGE_FACTS = [
  'stage', 'contactedAt', 'contactedBy', 'respondedAt', 'respondedBy', 'sustainedAt', 'sustainedBy', 'firstOutboundApproaches',
  'touchpointCount', 'inboundCount', 'outboundCostCents', 'lastTouchpointAt', 'lastTouchpointDirection',
] as const satisfies readonly (keyof StageFacts)[];
type Unlisted = Exclude<keyof StageFacts, (typeof STAGE_FACTS)[number]>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;
const STAGE_UPDATE_SQL = `update cases set ${setList(cases, STAGE_FACTS, 3)}, version = version + 1, updated_at = $2 where id = $1`;

interface WriteContext {
  settings: Record<string, unknown> | null;
  /** Who held the case when the touchpoint happened. */
  holderId: string | null;
  /** An outbound message already came after it (an inbound one logged late is answered). */
  answered: boolean;
  /** A follow-up is pending, due or overdue. */
  outstanding: boolean;
}

/** What a touchpoint write needs to know besides the case, in one round trip. */
async function writeContext(tx: Tx, c: { id: string; programId: string }, at: Date): Promise<WriteContext> {
  const [row] = await hotQuery<WriteContext>(
    tx,
    'touchpoint_context',
    `select
       (select settings from programs where id = $2) as "settings",
       (select staff_id from assignments
         where case_id = $1 and started_at <= $3 and (ended_at is null or ended_at > $3)
         order by started_at desc limit 1) as "holderId",
       exists (select 1 from touchpoints where case_id = $1 and direction = 'outbound' and occurred_at > $3) as "answered",
       exists (select 1 from follow_ups where case_id = $1 and status in (${OUTSTANDING.map((st) => `'${st}'`).join(', ')})) as "outstanding"`,
    [c.id, c.programId, at],
  );
  return row!;
}

/**
 * Records a message a person sent or received outside the system, and keeps the case's stage,
 * stage timestamps and counters right in the same transaction, whatever order touchpoints
 * arrive in. An outbound message with nothing outstanding schedules the next follow-up.
 */
export async function logTouchpoint(tx: Tx, ctx: Ctx, caseId: string, input: TouchpointInput): Promise<TouchpointRow> {
  const found = await loadCaseForWrite(tx, ctx, caseId);
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
  const known = await writeContext(tx, c, input.occurredAt);
  const inserted: { [K in (typeof INSERTED)[number]]: TouchpointRow[K] } = {
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
    holderId: known.holderId ?? c.assigneeId,
    awaitingResponse: input.direction === 'inbound' && !known.answered,
    createdAt: now,
  };
  const [row] = await hotQuery<TouchpointRow>(tx, 'touchpoint_insert', INSERT_SQL, INSERTED.map((k) => inserted[k]));
  if (input.direction === 'outbound') {
    // Earlier inbound messages are answered now: no response-SLA reminder for them.
    await hotQuery(
      tx,
      'touchpoint_answered',
      'update touchpoints set awaiting_response = false where case_id = $1 and awaiting_response and occurred_at < $2',
      [caseId, input.occurredAt],
    );
  }

  const settings = resolveSettings(known.settings);
  if (row!.awaitingResponse) ctx.jobs.push(responseSlaJob(row!, settings, now));
  const all = await hotQuery<Parameters<typeof deriveStage>[0][number]>(
    tx,
    'touchpoint_history',
    `select direction, occurred_at as "occurredAt", holder_id as "holderId", approaches, cost_cents as "costCents"
       from touchpoints where case_id = $1 order by occurred_at, id`,
    [caseId],
  );
  const facts = deriveStage(all, { minMessages: settings.sustainedMinMessages, minInbound: settings.sustainedMinInbound });
  await hotQuery(tx, 'case_stage_update', STAGE_UPDATE_SQL, [caseId, now, ...STAGE_FACTS.map((k) => facts[k])]);

  if (input.direction === 'outbound' && !known.outstanding) {
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
