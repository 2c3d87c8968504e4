import { and, asc, desc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { debriefs, supervisionSessions, timeLogs } from '../../db/schema/index.js';
import type { DebriefStatus } from '../vocabulary.js';

/** The only code that writes time_logs, debriefs and supervision_sessions. */

export type TimeLogRow = typeof timeLogs.$inferSelect;
export type DebriefRow = typeof debriefs.$inferSelect;
export type SupervisionRow = typeof supervisionSessions.$inferSelect;

export async function insertTimeLog(tx: Tx, row: typeof timeLogs.$inferInsert): Promise<TimeLogRow> {
  const [out] = await tx.insert(timeLogs).values(row).returning();
  return out!;
}

/**
 * Minutes of exposure per staff member in [from, to): the `minutesSpent` of the touchpoints they
 * logged (voided ones count nowhere) plus their logged time. Summed from the rows every time:
 * there is no counter to drift. Staff with none are missing from the map.
 */
export async function exposureMinutes(tx: Tx, staffIds: readonly string[], from: Date, to: Date): Promise<Map<string, number>> {
  // The one-bucket case of the report's split: one statement holds the rule.
  const rows = await exposureMinutesByBucket(tx, staffIds, [from, to]);
  return new Map(rows.map((r) => [r.staffId, r.minutes]));
}

/** Stores a debrief once per (reason, source, staff member): undefined when it was already owed (a replay). */
export async function insertDebrief(tx: Tx, row: typeof debriefs.$inferInsert): Promise<DebriefRow | undefined> {
  const [out] = await tx.insert(debriefs).values(row).onConflictDoNothing().returning();
  return out;
}

export async function findDebrief(tx: Tx, id: string, opts: { lock?: boolean } = {}): Promise<DebriefRow | undefined> {
  const q = tx.select().from(debriefs).where(eq(debriefs.id, id));
  const [row] = opts.lock ? await q.for('update') : await q;
  return row;
}

export interface DebriefFilter {
  programId: string;
  staffId?: string;
  status?: DebriefStatus;
  limit: number;
  /** The last (dueAt, id) seen. */
  after?: readonly [string, string];
}

/** Debriefs by due time, earliest first. */
export async function listDebriefsOf(tx: Tx, f: DebriefFilter): Promise<DebriefRow[]> {
  return tx
    .select()
    .from(debriefs)
    .where(
      and(
        eq(debriefs.programId, f.programId),
        f.staffId ? eq(debriefs.staffId, f.staffId) : undefined,
        f.status ? eq(debriefs.status, f.status) : undefined,
        f.after ? sql`(${debriefs.dueAt}, ${debriefs.id}) > (${f.after[0]}::timestamptz, ${f.after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(debriefs.dueAt), asc(debriefs.id))
    .limit(f.limit);
}

export async function markDebriefDone(tx: Tx, id: string, by: string, at: Date, note: string | null): Promise<DebriefRow | undefined> {
  const [row] = await tx
    .update(debriefs)
    .set({ status: 'done', doneAt: at, doneBy: by, note })
    .where(and(eq(debriefs.id, id), eq(debriefs.status, 'pending')))
    .returning();
  return row;
}

export async function pendingDebriefCount(tx: Tx, staffId: string): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(debriefs)
    .where(and(eq(debriefs.staffId, staffId), eq(debriefs.status, 'pending')));
  return Number(row?.n ?? 0);
}

/** A program's pending debriefs past due whose overdue notice has not gone out, earliest first (for the reconcile). */
export async function overdueDebriefIds(tx: Tx, programId: string, now: Date, limit: number): Promise<string[]> {
  const rows = await tx
    .select({ id: debriefs.id })
    .from(debriefs)
    .where(
      and(eq(debriefs.programId, programId), eq(debriefs.status, 'pending'), isNull(debriefs.overdueNotifiedAt), lte(debriefs.dueAt, now)),
    )
    .orderBy(asc(debriefs.dueAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Claims pending debriefs past due whose overdue notice has not gone out (at most `limit`):
 * marks them notified in the caller's transaction, so each is notified once whoever scans.
 */
export async function claimOverdueDebriefs(tx: Tx, now: Date, limit: number, id?: string): Promise<DebriefRow[]> {
  const due = await tx
    .select({ id: debriefs.id })
    .from(debriefs)
    .where(
      and(
        eq(debriefs.status, 'pending'),
        isNull(debriefs.overdueNotifiedAt),
        lte(debriefs.dueAt, now),
        id ? eq(debriefs.id, id) : undefined,
      ),
    )
    .orderBy(asc(debriefs.dueAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  if (due.length === 0) return [];
  return tx
    .update(debriefs)
    .set({ overdueNotifiedAt: now })
    .where(
      inArray(
        debriefs.id,
        due.map((d) => d.id),
      ),
    )
    .returning();
}

export async function insertSupervision(tx: Tx, row: typeof supervisionSessions.$inferInsert): Promise<SupervisionRow> {
  const [out] = await tx.insert(supervisionSessions).values(row).returning();
  return out!;
}

export async function listSupervisionOf(
  tx: Tx,
  staffId: string,
  limit: number,
  after?: readonly [string, string],
): Promise<SupervisionRow[]> {
  return tx
    .select()
    .from(supervisionSessions)
    .where(
      and(
        eq(supervisionSessions.staffId, staffId),
        after ? sql`(${supervisionSessions.at}, ${supervisionSessions.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(desc(supervisionSessions.at), desc(supervisionSessions.id))
    .limit(limit);
}

/** Supervision minutes per staff member in [from, to). */
export async function supervisionMinutes(tx: Tx, staffIds: readonly string[], from: Date, to: Date): Promise<Map<string, number>> {
  if (staffIds.length === 0) return new Map();
  const rows = await tx
    .select({ staffId: supervisionSessions.staffId, minutes: sql<number>`sum(${supervisionSessions.minutes})::int` })
    .from(supervisionSessions)
    .where(
      and(
        inArray(supervisionSessions.staffId, [...staffIds]),
        sql`${supervisionSessions.at} >= ${from.toISOString()}::timestamptz`,
        sql`${supervisionSessions.at} < ${to.toISOString()}::timestamptz`,
      ),
    )
    .groupBy(supervisionSessions.staffId);
  return new Map(rows.map((r) => [r.staffId, Number(r.minutes)]));
}

export async function lastSupervisionAt(tx: Tx, staffId: string, before: Date): Promise<Date | null> {
  const [row] = await tx
    .select({ at: supervisionSessions.at })
    .from(supervisionSessions)
    .where(and(eq(supervisionSessions.staffId, staffId), lte(supervisionSessions.at, before)))
    .orderBy(desc(supervisionSessions.at))
    .limit(1);
  return row?.at ?? null;
}

// ---- The welfare report (GET /v1/reports/welfare)

/** Minutes of one staff member in one bucket: bucket i is [bounds[i], bounds[i + 1]). */
export interface BucketMinutes {
  staffId: string;
  bucket: number;
  minutes: number;
}

const boundsParam = (bounds: readonly Date[]) => sql`${sql.param(bounds.map((b) => b.toISOString()))}::timestamptz[]`;

/**
 * exposureMinutes split into consecutive buckets (the report's ISO weeks): the same rows and the
 * same filters, grouped by `width_bucket` over `bounds` (ascending; at least two). Empty buckets
 * are missing.
 */
export async function exposureMinutesByBucket(tx: Tx, staffIds: readonly string[], bounds: readonly Date[]): Promise<BucketMinutes[]> {
  if (staffIds.length === 0 || bounds.length < 2) return [];
  const from = bounds[0]!.toISOString();
  const to = bounds.at(-1)!.toISOString();
  const rows = await tx.execute<{ staff_id: string; bucket: number; minutes: number }>(sql`
    select staff_id, width_bucket(at, ${boundsParam(bounds)}) - 1 as bucket, sum(minutes)::int as minutes from (
      select logged_by as staff_id, occurred_at as at, minutes_spent as minutes from touchpoints
       where logged_by = any(${sql.param([...staffIds])}::uuid[]) and minutes_spent is not null and voided_at is null
         and occurred_at >= ${from}::timestamptz and occurred_at < ${to}::timestamptz
      union all
      select staff_id, at, minutes from time_logs
       where staff_id = any(${sql.param([...staffIds])}::uuid[])
         and at >= ${from}::timestamptz and at < ${to}::timestamptz
    ) m group by 1, 2`);
  return rows.rows.map((r) => ({ staffId: r.staff_id, bucket: Number(r.bucket), minutes: Number(r.minutes) }));
}

/** supervisionMinutes split into consecutive buckets (the report's supervision periods), as exposureMinutesByBucket. */
export async function supervisionMinutesByBucket(tx: Tx, staffIds: readonly string[], bounds: readonly Date[]): Promise<BucketMinutes[]> {
  if (staffIds.length === 0 || bounds.length < 2) return [];
  // Grouped by position: the bucket expression holds a parameter, which GROUP BY cannot match by value.
  const rows = await tx.execute<{ staff_id: string; bucket: number; minutes: number }>(sql`
    select staff_id, width_bucket(at, ${boundsParam(bounds)}) - 1 as bucket, sum(minutes)::int as minutes from supervision_sessions
     where staff_id = any(${sql.param([...staffIds])}::uuid[])
       and at >= ${bounds[0]!.toISOString()}::timestamptz and at < ${bounds.at(-1)!.toISOString()}::timestamptz
     group by 1, 2`);
  return rows.rows.map((r) => ({ staffId: r.staff_id, bucket: Number(r.bucket), minutes: Number(r.minutes) }));
}

/** One staff member's debriefs owed in a window, by what became of them. */
export interface DebriefTally {
  staffId: string;
  owed: number;
  done: number;
  onTime: number;
  pending: number;
  overdue: number;
}

/**
 * The program's debriefs created in [from, to), per staff member: done, done by their due time,
 * still pending, and pending past due at `now`. Staff with none are missing.
 */
export async function debriefTallies(tx: Tx, programId: string, from: Date, to: Date, now: Date): Promise<DebriefTally[]> {
  const done: DebriefStatus = 'done';
  const pending: DebriefStatus = 'pending';
  const rows = await tx
    .select({
      staffId: debriefs.staffId,
      owed: sql<number>`count(*)::int`,
      done: sql<number>`(count(*) filter (where ${debriefs.status} = ${done}))::int`,
      onTime: sql<number>`(count(*) filter (where ${debriefs.status} = ${done} and ${debriefs.doneAt} <= ${debriefs.dueAt}))::int`,
      pending: sql<number>`(count(*) filter (where ${debriefs.status} = ${pending}))::int`,
      overdue: sql<number>`(count(*) filter (where ${debriefs.status} = ${pending} and ${debriefs.dueAt} <= ${now.toISOString()}::timestamptz))::int`,
    })
    .from(debriefs)
    .where(
      and(
        eq(debriefs.programId, programId),
        sql`${debriefs.createdAt} >= ${from.toISOString()}::timestamptz`,
        sql`${debriefs.createdAt} < ${to.toISOString()}::timestamptz`,
      ),
    )
    .groupBy(debriefs.staffId);
  return rows.map((r) => ({
    staffId: r.staffId,
    owed: Number(r.owed),
    done: Number(r.done),
    onTime: Number(r.onTime),
    pending: Number(r.pending),
    overdue: Number(r.overdue),
  }));
}
