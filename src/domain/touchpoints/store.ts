import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { hotQuery, insertReturning } from '../../db/prepared.js';
import { cases, touchpoints } from '../../db/schema/index.js';
import { caseScope } from '../cases/scope.js';
import { OUTSTANDING } from '../followups/rules.js';
import { storedSettingsSql } from '../programs/store.js';
import type { Principal } from '../staff/principal.js';
import { stageUpdateSql, stageUpdateValues } from '../cases/store.js';
import type { StageFacts, TouchpointFact } from './stage.js';

/**
 * The only code that writes touchpoints. A voided touchpoint (`voided_at` set) stays readable in
 * the case's list and counts nowhere else: every read below that feeds derived state skips it.
 */

export type TouchpointRow = typeof touchpoints.$inferSelect;

const INSERTED = [
  'id',
  'caseId',
  'programId',
  'direction',
  'channel',
  'occurredAt',
  'approaches',
  'sentiment',
  'costCents',
  'summary',
  'minutesSpent',
  'distressing',
  'outreachAccountId',
  'loggedBy',
  'holderId',
  'awaitingResponse',
  'createdAt',
] as const;
const param = (key: (typeof INSERTED)[number]) => `$${INSERTED.indexOf(key) + 1}`;
/**
 * The insert, for an outbound message the inbound ones before it marked answered (no
 * response-SLA reminder for them), and the case's stage facts with it counted, in one statement:
 * the update runs in the same snapshot, so it never sees the row being inserted; the facts were
 * decided under the case's lock (touchpoints/service.ts: folded, or derived from the history).
 */
const INSERT_SQL = `with answered as (
    update touchpoints set awaiting_response = false
     where ${param('direction')}::direction = 'outbound' and case_id = ${param('caseId')}
       and awaiting_response and occurred_at < ${param('occurredAt')}
  ), staged as (
    ${stageUpdateSql(INSERTED.indexOf('caseId') + 1, INSERTED.length + 1)}
  )
  ${insertReturning(touchpoints, INSERTED)}`;
export type NewTouchpoint = { [K in (typeof INSERTED)[number]]: TouchpointRow[K] };

/** Inserts a touchpoint and writes its case's stage facts `facts` (see INSERT_SQL). */
export async function insertTouchpoint(tx: Tx, t: NewTouchpoint, now: Date, facts: StageFacts): Promise<TouchpointRow> {
  const [row] = await hotQuery<TouchpointRow>(tx, 'touchpoint_insert_staged', INSERT_SQL, [
    ...INSERTED.map((k) => t[k]),
    ...stageUpdateValues(now, facts),
  ]);
  return row!;
}

export interface TouchpointWriteContext {
  settings: Record<string, unknown> | null;
  /** Who held the case when the touchpoint happened. */
  holderId: string | null;
  /** An outbound message already came after it (an inbound one logged late is answered). */
  answered: boolean;
  /** A follow-up is pending, due or overdue. */
  outstanding: boolean;
  /** The case's touchpoints that count, as touchpointHistory reads them; null unless asked for. */
  history: HistoryFact[] | null;
}

/** A counting touchpoint as deriveStage reads it, with its id (ties in occurredAt are ordered by it). */
export type HistoryFact = TouchpointFact & { id: string };

/** A history row as the context's JSON carries it: [id, direction, occurredAt in epoch ms, holderId, approaches, costCents, outreachAccountId]. */
type HistoryTuple = [string, TouchpointFact['direction'], number, string | null, string[] | null, number | null, string | null];

/**
 * What a touchpoint write needs to know besides the case, in one round trip; read after the case's
 * lock (loadCaseForWrite), so the history (`withHistory`: a write that cannot fold its touchpoint
 * into the case's facts) is every counting touchpoint a concurrent write committed. Times in the
 * history travel as epoch milliseconds, truncated as node-postgres truncates a timestamptz.
 */
export async function touchpointWriteContext(
  tx: Tx,
  c: { id: string; programId: string },
  at: Date,
  withHistory: boolean,
): Promise<TouchpointWriteContext> {
  const [row] = await hotQuery<Omit<TouchpointWriteContext, 'history'> & { history: HistoryTuple[] | null }>(
    tx,
    'touchpoint_context',
    `select
       ${storedSettingsSql('$2')} as "settings",
       (select staff_id from assignments
         where case_id = $1 and started_at <= $3 and (ended_at is null or ended_at > $3)
         order by started_at desc limit 1) as "holderId",
       exists (select 1 from touchpoints
                where case_id = $1 and direction = 'outbound' and voided_at is null and occurred_at > $3) as "answered",
       exists (select 1 from follow_ups where case_id = $1 and status = any($4::follow_up_status[])) as "outstanding",
       case when $5 then
         (select coalesce(json_agg(json_build_array(id, direction, floor(extract(epoch from occurred_at) * 1000), holder_id, approaches,
                                                    cost_cents, outreach_account_id) order by date_trunc('milliseconds', occurred_at), id), '[]'::json)
            from touchpoints where case_id = $1 and voided_at is null)
       end as "history"`,
    [c.id, c.programId, at, OUTSTANDING, withHistory],
  );
  const { history, ...known } = row!;
  return {
    ...known,
    history:
      history?.map(([id, direction, ms, holderId, approaches, costCents, outreachAccountId]) => ({
        id,
        direction,
        occurredAt: new Date(Number(ms)),
        holderId,
        approaches,
        costCents,
        outreachAccountId,
      })) ?? null,
  };
}

/**
 * A case's touchpoints that count (not voided) in order, as deriveStage reads them: by occurredAt
 * to the millisecond (what a JavaScript Date holds, as the fold compares them), then id.
 */
export async function touchpointHistory(tx: Tx, caseId: string): Promise<HistoryFact[]> {
  return hotQuery<HistoryFact>(
    tx,
    'touchpoint_history',
    `select id, direction, occurred_at as "occurredAt", holder_id as "holderId", approaches, cost_cents as "costCents",
            outreach_account_id as "outreachAccountId"
       from touchpoints where case_id = $1 and voided_at is null order by date_trunc('milliseconds', occurred_at), id`,
    [caseId],
  );
}

/** Ordered by (occurredAt, id), after the last pair seen; voided ones included (they read back as voided). */
export async function listTouchpointsOf(tx: Tx, caseId: string, limit: number, after?: [string, string]): Promise<TouchpointRow[]> {
  return tx
    .select()
    .from(touchpoints)
    .where(
      and(
        eq(touchpoints.caseId, caseId),
        after ? sql`(${touchpoints.occurredAt}, ${touchpoints.id}) > (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(touchpoints.occurredAt), asc(touchpoints.id))
    .limit(limit);
}

export async function lockTouchpoint(tx: Tx, id: string): Promise<TouchpointRow | undefined> {
  const [t] = await tx.select().from(touchpoints).where(eq(touchpoints.id, id)).for('update');
  return t;
}

/** An outbound message on the case after `after` (a voided one was never sent). */
export async function answeredAfter(tx: Tx, caseId: string, after: Date): Promise<boolean> {
  const [answered] = await tx
    .select({ id: touchpoints.id })
    .from(touchpoints)
    .where(
      and(
        eq(touchpoints.caseId, caseId),
        eq(touchpoints.direction, 'outbound'),
        isNull(touchpoints.voidedAt),
        sql`${touchpoints.occurredAt} > ${after}`,
      ),
    )
    .limit(1);
  return answered !== undefined;
}

/** Stops waiting for a response; with `notifiedAt`, records that the holder was told it is overdue. */
export async function stopAwaitingResponse(tx: Tx, id: string, notifiedAt?: Date): Promise<void> {
  await tx
    .update(touchpoints)
    .set({ awaitingResponse: false, ...(notifiedAt ? { responseOverdueNotifiedAt: notifiedAt } : {}) })
    .where(eq(touchpoints.id, id));
}

/** Erasure: the summaries and void reasons go (free text), the facts reports count stay. */
export async function eraseTouchpointsOf(tx: Tx, caseId: string): Promise<void> {
  await tx.update(touchpoints).set({ summary: null, voidReason: null }).where(eq(touchpoints.caseId, caseId));
}

/** Touchpoints of a program still awaiting a response that came in by `before`, oldest first. */
export async function awaitingResponseSince(db: Db, programId: string, now: Date, slaMs: number, limit: number): Promise<string[]> {
  const rows = await hotQuery<{ id: string }>(
    db,
    null,
    `select id from touchpoints
      where program_id = $2 and awaiting_response and voided_at is null and occurred_at <= $1::timestamptz - ($3::float8 * interval '1 millisecond')
      order by occurred_at limit $4`,
    [now, programId, slaMs, limit],
  );
  return rows.map((r) => r.id);
}

/** A touchpoint on a case in the caller's scope (out of scope reads as missing). */
export async function findTouchpointInScope(tx: Tx, p: Principal, id: string): Promise<{ id: string; caseId: string } | undefined> {
  const [row] = await tx
    .select({ id: touchpoints.id, caseId: touchpoints.caseId })
    .from(touchpoints)
    .innerJoin(cases, eq(cases.id, touchpoints.caseId))
    .where(and(eq(touchpoints.id, id), caseScope(p)));
  return row;
}

/** Marks a touchpoint as logged in error; it stops waiting for a response. Undefined when it was void already. */
export async function markVoided(tx: Tx, id: string, v: { at: Date; by: string; reason: string }): Promise<TouchpointRow | undefined> {
  const [row] = await tx
    .update(touchpoints)
    .set({ voidedAt: v.at, voidedBy: v.by, voidReason: v.reason, awaitingResponse: false })
    .where(and(eq(touchpoints.id, id), isNull(touchpoints.voidedAt)))
    .returning();
  return row;
}

/**
 * After an outbound message before `before` is voided: the inbound messages it alone answered wait
 * for a response again (no other counting outbound after them), unless their response-SLA
 * reminder already fired (it fires at most once). Returns them, for their reminder jobs.
 */
export async function awaitAgainBefore(tx: Tx, caseId: string, before: Date): Promise<{ id: string; occurredAt: Date }[]> {
  return hotQuery<{ id: string; occurredAt: Date }>(
    tx,
    null,
    `update touchpoints t set awaiting_response = true
      where t.case_id = $1 and t.direction = 'inbound' and t.voided_at is null and not t.awaiting_response
        and t.response_overdue_notified_at is null and t.occurred_at < $2
        and not exists (select 1 from touchpoints o
                         where o.case_id = t.case_id and o.direction = 'outbound' and o.voided_at is null and o.occurred_at > t.occurred_at)
      returning t.id, t.occurred_at as "occurredAt"`,
    [caseId, before],
  );
}

/** The first counting outbound message logged after `loggedAfter` (by `createdAt`). */
export async function firstOutboundLoggedAfter(tx: Tx, caseId: string, loggedAfter: Date): Promise<TouchpointRow | undefined> {
  const [row] = await tx
    .select()
    .from(touchpoints)
    .where(
      and(
        eq(touchpoints.caseId, caseId),
        eq(touchpoints.direction, 'outbound'),
        isNull(touchpoints.voidedAt),
        gt(touchpoints.createdAt, loggedAfter),
      ),
    )
    .orderBy(asc(touchpoints.createdAt), asc(touchpoints.id))
    .limit(1);
  return row;
}
