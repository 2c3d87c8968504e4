import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { caseHolds } from '../../db/schema/index.js';

/** The only code that writes case_holds. */

export type HoldRow = typeof caseHolds.$inferSelect;

/** A hold is active while it is not released and its `until` (if any) is still ahead of `at`. */
export function activeHoldSql(caseIdColumn: SQL, at: SQL): SQL {
  return sql`exists (select 1 from case_holds h where h.case_id = ${caseIdColumn} and h.released_at is null and (h.until is null or h.until > ${at}))`;
}

export async function insertHold(tx: Tx, row: typeof caseHolds.$inferInsert): Promise<HoldRow> {
  const [out] = await tx.insert(caseHolds).values(row).returning();
  return out!;
}

export async function findHold(tx: Tx, id: string, opts: { lock?: boolean } = {}): Promise<HoldRow | undefined> {
  const q = tx.select().from(caseHolds).where(eq(caseHolds.id, id));
  const [row] = opts.lock ? await q.for('update') : await q;
  return row;
}

export async function releaseHold(tx: Tx, id: string, by: string, at: Date): Promise<HoldRow | undefined> {
  const [row] = await tx
    .update(caseHolds)
    .set({ releasedAt: at, releasedBy: by })
    .where(and(eq(caseHolds.id, id), isNull(caseHolds.releasedAt)))
    .returning();
  return row;
}

/** The case's active hold at `at`, if any (the one ending last). */
export async function activeHoldOf(tx: Tx, caseId: string, at: Date): Promise<HoldRow | undefined> {
  const [row] = await tx
    .select()
    .from(caseHolds)
    .where(
      and(
        eq(caseHolds.caseId, caseId),
        isNull(caseHolds.releasedAt),
        sql`(${caseHolds.until} is null or ${caseHolds.until} > ${at.toISOString()}::timestamptz)`,
      ),
    )
    .orderBy(sql`${caseHolds.until} desc nulls first`)
    .limit(1);
  return row;
}

/** The program's holds, newest first; `active` only those in force at `at`. */
export async function listHoldsOf(tx: Tx, programId: string, at: Date, active: boolean, limit: number): Promise<HoldRow[]> {
  return tx
    .select()
    .from(caseHolds)
    .where(
      and(
        eq(caseHolds.programId, programId),
        active
          ? sql`${caseHolds.releasedAt} is null and (${caseHolds.until} is null or ${caseHolds.until} > ${at.toISOString()}::timestamptz)`
          : undefined,
      ),
    )
    .orderBy(desc(caseHolds.createdAt), desc(caseHolds.id))
    .limit(limit);
}

/** Cases of the program with a hold in force at `at`. */
export async function heldCaseCount(tx: Tx, programId: string, at: Date): Promise<number> {
  const rows = await tx.execute<{ n: number }>(sql`
    select count(distinct case_id)::int as n from case_holds
     where program_id = ${programId} and released_at is null and (until is null or until > ${at.toISOString()}::timestamptz)`);
  return Number(rows.rows[0]?.n ?? 0);
}
