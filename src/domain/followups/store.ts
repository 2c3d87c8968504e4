import { and, asc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { hotQuery, selectList } from '../../db/prepared.js';
import { cases, followUps } from '../../db/schema/index.js';
import { caseScope } from '../cases/scope.js';
import { dedupePrefix } from '../notifications/rules.js';
import { notifyFromSql } from '../notifications/store.js';
import { storedSettingsSql } from '../programs/store.js';
import { reachableNowSql } from '../staff/store.js';
import type { Principal } from '../staff/principal.js';
import type { FollowUpStatus } from '../vocabulary.js';
import { followUpOccurrence, OUTSTANDING } from './rules.js';

/** The only code that writes follow_ups. */

export type FollowUpRow = typeof followUps.$inferSelect;
export type NewFollowUpRow = Pick<
  typeof followUps.$inferInsert,
  'caseId' | 'programId' | 'assigneeId' | 'dueAt' | 'kind' | 'note' | 'createdBy' | 'createdAt'
>;
export type FollowUpChanges = Partial<
  Pick<typeof followUps.$inferInsert, 'status' | 'dueAt' | 'completedAt' | 'cancelledAt' | 'dueNotifiedAt' | 'overdueNotifiedAt'>
>;

const outstanding = () => inArray(followUps.status, [...OUTSTANDING]);

export async function insertFollowUpRow(tx: Tx, f: NewFollowUpRow): Promise<FollowUpRow> {
  const [row] = await tx
    .insert(followUps)
    .values({ id: uuidv7(), ...f })
    .returning();
  return row!;
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

export interface FollowUpListFilter {
  status?: FollowUpStatus;
  assigneeId?: string;
  caseId?: string;
  dueFrom?: Date;
  dueTo?: Date;
  after?: [Date, string];
}

/** Ordered by (dueAt, id); dueFrom inclusive, dueTo exclusive. */
export async function listFollowUpsInScope(tx: Tx, p: Principal, f: FollowUpListFilter, limit: number): Promise<FollowUpRow[]> {
  const where: (SQL | undefined)[] = [followUpScope(p)];
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
    .limit(limit);
  return rows.map((r) => r.followUp);
}

/** A follow-up in the caller's scope; `lock` takes its row for the rest of the transaction. */
export async function findFollowUpInScope(
  tx: Tx,
  p: Principal,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<FollowUpRow | undefined> {
  const q = tx
    .select({ followUp: followUps })
    .from(followUps)
    .innerJoin(cases, eq(cases.id, followUps.caseId))
    .where(and(eq(followUps.id, id), followUpScope(p)));
  const [row] = opts.lock ? await q.for('update', { of: followUps }) : await q;
  return row?.followUp;
}

/** Applies `changes` to a still outstanding follow-up and bumps its version (older jobs go stale). */
export async function updateOutstandingFollowUp(tx: Tx, id: string, changes: FollowUpChanges): Promise<FollowUpRow | undefined> {
  const [row] = await tx
    .update(followUps)
    .set({ ...changes, version: sql`${followUps.version} + 1` })
    .where(and(eq(followUps.id, id), outstanding()))
    .returning();
  return row;
}

/** Outstanding reminders follow the case to its new holder. */
export async function reassignOutstanding(tx: Tx, caseId: string, staffId: string): Promise<void> {
  await tx
    .update(followUps)
    .set({ assigneeId: staffId })
    .where(and(eq(followUps.caseId, caseId), outstanding()));
}

export async function cancelOutstanding(tx: Tx, caseId: string, now: Date): Promise<void> {
  await tx
    .update(followUps)
    .set({ status: 'cancelled', cancelledAt: now, version: sql`${followUps.version} + 1` })
    .where(and(eq(followUps.caseId, caseId), outstanding()));
}

/** Erasure: every note goes and whatever was outstanding is cancelled. */
export async function eraseFollowUpsOf(tx: Tx, caseId: string): Promise<void> {
  await tx
    .update(followUps)
    .set({
      note: null,
      status: sql`case when ${outstanding()} then 'cancelled'::follow_up_status else ${followUps.status} end`,
      version: sql`${followUps.version} + 1`,
    })
    .where(eq(followUps.caseId, caseId));
}

export async function lockFollowUp(tx: Tx, id: string): Promise<FollowUpRow | undefined> {
  const [f] = await tx.select().from(followUps).where(eq(followUps.id, id)).for('update');
  return f;
}

/** Marks it due (its version unchanged: the overdue job for this version still applies). */
export async function markFollowUpDue(tx: Tx, id: string, now: Date): Promise<void> {
  await tx.update(followUps).set({ status: 'due', dueNotifiedAt: now }).where(eq(followUps.id, id));
}

export async function markFollowUpOverdue(tx: Tx, id: string, now: Date, dueNotifiedAt: Date): Promise<void> {
  await tx.update(followUps).set({ status: 'overdue', overdueNotifiedAt: now, dueNotifiedAt }).where(eq(followUps.id, id));
}

export type FiredDue = FollowUpRow & { programSettings: Record<string, unknown> | null; notificationId: string | null };

/**
 * Pending follow-ups of these versions that are due: mark them due and notify each holder, with
 * the dedupe key notify() would give, so a replay or the general path can never notify twice.
 * One statement for a whole batch (reminders/due-batch.ts), one commit: the hot path of every
 * reminder. Rows are locked in id order, so two batches that share follow-ups (a job delivered
 * twice) wait for each other instead of deadlocking.
 */
const FIRE_DUE_BATCH_SQL = `
  with req as (
    select * from unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[]) as r(id, version, nid, prefix)
  ), locked as (
    select follow_ups.id from follow_ups where follow_ups.id = any($1::uuid[]) order by follow_ups.id for update
  ), f as (
    update follow_ups set status = 'due', due_notified_at = $5
      from req
     where follow_ups.id = req.id and follow_ups.id in (select id from locked)
       and follow_ups.version = req.version and follow_ups.status = 'pending' and follow_ups.due_at <= $5
       and ${reachableNowSql('follow_ups.assignee_id')}
    returning ${selectList(followUps, 'follow_ups')}, req.nid, req.prefix
  ), n as (
    ${notifyFromSql('f', { id: 'f.nid', kind: '$6', prefix: 'f.prefix' }, { recipient: '"assigneeId"', programId: '"programId"', caseId: '"caseId"', subjectId: 'id' })}
  )
  select ${Object.keys(getTableColumns(followUps))
    .map((k) => `f."${k}"`)
    .join(', ')}, ${storedSettingsSql('f."programId"')} as "programSettings", n.id as "notificationId"
    from f left join n on n.subject_id = f.id`;

/**
 * The due path for many follow-ups in one round trip: those fired, by id. One not returned was
 * not pending at its version or not yet due (the general path finds out which). Ids must be distinct.
 */
export async function fireDueInOneStatementBatch(
  db: Db,
  due: readonly { followUpId: string; version: number }[],
  now: Date,
): Promise<Map<string, FiredDue>> {
  const rows = await hotQuery<FiredDue>(db, 'follow_up_fire_due_batch', FIRE_DUE_BATCH_SQL, [
    due.map((d) => d.followUpId),
    due.map((d) => d.version),
    due.map(() => uuidv7()),
    due.map((d) => dedupePrefix('follow_up_due', followUpOccurrence({ id: d.followUpId, version: d.version }))),
    now,
    'follow_up_due',
  ]);
  return new Map(rows.map((r) => [r.id, r]));
}

/** Ids and versions of a program's follow-ups in `statuses` due by `dueBy`, soonest first. */
export async function dueFollowUps(
  db: Db,
  programId: string,
  statuses: readonly FollowUpStatus[],
  dueBy: { now: Date; graceMs: number },
  limit: number,
): Promise<{ id: string; version: number }[]> {
  const rows = await hotQuery<{ id: string; version: number }>(
    db,
    null,
    `select id, version from follow_ups
      where program_id = $2 and status = any($3::follow_up_status[]) and due_at <= $1::timestamptz - ($4::float8 * interval '1 millisecond')
      order by due_at limit $5`,
    [dueBy.now, programId, statuses, dueBy.graceMs, limit],
  );
  return rows;
}

/** When the program's next `due` follow-up not yet past its grace becomes overdue (epoch ms), if any. */
export async function nextOverdueAt(db: Db, programId: string, now: Date, graceMs: number): Promise<number | undefined> {
  const [row] = await hotQuery<{ at: Date | null }>(
    db,
    'follow_up_next_overdue',
    `select min(due_at) + ($3::float8 * interval '1 millisecond') as at from follow_ups
      where program_id = $1 and status = 'due' and due_at > $2::timestamptz - ($3::float8 * interval '1 millisecond')`,
    [programId, now, graceMs],
  );
  return row?.at ? new Date(row.at).getTime() : undefined;
}

/**
 * The outstanding follow-up an outbound touchpoint scheduled: logging writes it in the same
 * transaction, by the same person, at the same instant, as a `follow_up` with no note.
 */
export async function scheduledWith(tx: Tx, caseId: string, by: string, at: Date): Promise<FollowUpRow | undefined> {
  const [row] = await tx
    .select()
    .from(followUps)
    .where(
      and(
        eq(followUps.caseId, caseId),
        eq(followUps.createdBy, by),
        eq(followUps.createdAt, at),
        eq(followUps.kind, 'follow_up'),
        sql`${followUps.note} is null`,
        outstanding(),
      ),
    )
    .orderBy(asc(followUps.id))
    .limit(1);
  return row;
}

/** Whether anything is still pending, due or overdue on the case. */
export async function hasOutstanding(tx: Tx, caseId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: followUps.id })
    .from(followUps)
    .where(and(eq(followUps.caseId, caseId), outstanding()))
    .limit(1);
  return row !== undefined;
}

/** Every follow-up of a case, by due date (a subject access export). */
export async function followUpsOfCase(tx: Tx, caseId: string): Promise<FollowUpRow[]> {
  return tx.select().from(followUps).where(eq(followUps.caseId, caseId)).orderBy(asc(followUps.dueAt), asc(followUps.id));
}
