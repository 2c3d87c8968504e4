import { and, asc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { dsrMatches, dsrRequests } from '../../db/schema/index.js';
import type { Platform } from '../cases/profile.js';

/** The only code that writes dsr_requests and dsr_matches. */

export type DsrRow = typeof dsrRequests.$inferSelect;
export type NewDsrRow = Pick<
  typeof dsrRequests.$inferInsert,
  'id' | 'programId' | 'type' | 'platform' | 'subjectHash' | 'receivedAt' | 'dueAt' | 'suppressed' | 'note' | 'createdBy'
>;

/** The date that binds a request, in SQL (rules.ts `effectiveDueAt`). */
const effectiveDue = sql`coalesce(${dsrRequests.extendedUntil}, ${dsrRequests.dueAt})`;

export async function insertDsr(tx: Tx, row: NewDsrRow, caseIds: readonly string[]): Promise<DsrRow> {
  const [out] = await tx.insert(dsrRequests).values(row).returning();
  if (caseIds.length > 0) {
    await tx
      .insert(dsrMatches)
      .values(caseIds.map((caseId) => ({ dsrId: row.id, caseId })))
      .onConflictDoNothing();
  }
  return out!;
}

export async function findDsr(tx: Tx, id: string, opts: { lock?: boolean } = {}): Promise<DsrRow | undefined> {
  const q = tx.select().from(dsrRequests).where(eq(dsrRequests.id, id));
  const [row] = opts.lock ? await q.for('update') : await q;
  return row;
}

/** The cases each request matched when it came in, by request id. */
export async function matchedCaseIds(tx: Tx, dsrIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(dsrIds.map((id) => [id, []]));
  if (dsrIds.length === 0) return out;
  const rows = await tx
    .select()
    .from(dsrMatches)
    .where(inArray(dsrMatches.dsrId, [...dsrIds]))
    .orderBy(asc(dsrMatches.caseId));
  for (const r of rows) out.get(r.dsrId)?.push(r.caseId);
  return out;
}

/** Cases earlier requests about the same subject matched (erased since, they hold no handle to match by). */
export async function casesMatchedBefore(tx: Tx, programId: string, platform: Platform, subjectHash: string): Promise<string[]> {
  const rows = await tx
    .selectDistinct({ caseId: dsrMatches.caseId })
    .from(dsrMatches)
    .innerJoin(dsrRequests, eq(dsrRequests.id, dsrMatches.dsrId))
    .where(and(eq(dsrRequests.programId, programId), eq(dsrRequests.platform, platform), eq(dsrRequests.subjectHash, subjectHash)));
  return rows.map((r) => r.caseId);
}

export type DsrListStatus = 'open' | 'closed' | 'overdue';

/** A program's requests by effective due date, after the (due, id) last seen; `overdue`: open and due by `now`. */
export async function listDsrOf(
  tx: Tx,
  f: { programId: string; status?: DsrListStatus; now: Date; limit: number; after?: readonly [string, string] },
): Promise<DsrRow[]> {
  const where: (SQL | undefined)[] = [eq(dsrRequests.programId, f.programId)];
  if (f.status === 'closed') where.push(eq(dsrRequests.status, 'closed'));
  if (f.status === 'open') where.push(eq(dsrRequests.status, 'open'));
  if (f.status === 'overdue') where.push(eq(dsrRequests.status, 'open'), sql`${effectiveDue} <= ${f.now.toISOString()}::timestamptz`);
  if (f.after) where.push(sql`(${effectiveDue}, ${dsrRequests.id}) > (${f.after[0]}::timestamptz, ${f.after[1]}::uuid)`);
  return tx
    .select()
    .from(dsrRequests)
    .where(and(...where))
    .orderBy(asc(effectiveDue), asc(dsrRequests.id))
    .limit(f.limit);
}

/** The one extension; undefined when the request is closed or was extended already. */
export async function extendOpenDsr(tx: Tx, id: string, until: Date, reason: string): Promise<DsrRow | undefined> {
  const [row] = await tx
    .update(dsrRequests)
    .set({ extendedUntil: until, extensionReason: reason })
    .where(and(eq(dsrRequests.id, id), eq(dsrRequests.status, 'open'), isNull(dsrRequests.extendedUntil)))
    .returning();
  return row;
}

export async function closeOpenDsr(
  tx: Tx,
  id: string,
  c: { resolution: NonNullable<DsrRow['resolution']>; note: string; by: string; at: Date },
): Promise<DsrRow | undefined> {
  const [row] = await tx
    .update(dsrRequests)
    .set({ status: 'closed', resolution: c.resolution, resolutionNote: c.note, closedBy: c.by, closedAt: c.at })
    .where(and(eq(dsrRequests.id, id), eq(dsrRequests.status, 'open')))
    .returning();
  return row;
}

/**
 * Claims open requests of the program whose moment (`soon`: 7 days before the effective due date;
 * `overdue`: the date itself) has come and that were not told of yet, marking them in the same
 * statement's transaction: whoever claims first tells, once; locked rows are skipped.
 */
export async function claimDsrNotices(
  tx: Tx,
  programId: string,
  which: 'soon' | 'overdue',
  now: Date,
  leadMs: number,
  limit: number,
): Promise<DsrRow[]> {
  const marked = which === 'soon' ? dsrRequests.dueSoonNotifiedAt : dsrRequests.overdueNotifiedAt;
  const due = await tx
    .select({ id: dsrRequests.id })
    .from(dsrRequests)
    .where(
      and(
        eq(dsrRequests.programId, programId),
        eq(dsrRequests.status, 'open'),
        isNull(marked),
        sql`${effectiveDue} - ${leadMs}::float8 * interval '1 millisecond' <= ${now.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(dsrRequests.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  if (due.length === 0) return [];
  return tx
    .update(dsrRequests)
    .set(which === 'soon' ? { dueSoonNotifiedAt: now } : { overdueNotifiedAt: now })
    .where(
      inArray(
        dsrRequests.id,
        due.map((d) => d.id),
      ),
    )
    .returning();
}

/** Open and overdue requests of a program at `now` (the record of processing's counts). */
export async function dsrCounts(tx: Tx, programId: string, now: Date): Promise<{ open: number; overdue: number }> {
  const [row] = await tx
    .select({
      open: sql<number>`count(*)::int`,
      overdue: sql<number>`(count(*) filter (where ${effectiveDue} <= ${now.toISOString()}::timestamptz))::int`,
    })
    .from(dsrRequests)
    .where(and(eq(dsrRequests.programId, programId), eq(dsrRequests.status, 'open')));
  return { open: Number(row?.open ?? 0), overdue: Number(row?.overdue ?? 0) };
}
