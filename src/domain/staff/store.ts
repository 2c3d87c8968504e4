import { and, asc, eq, gt, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { builtOnce } from '../../db/prepared.js';
import { absences, apiTokens, boardSessions, staff } from '../../db/schema/index.js';
import type { Role } from './principal.js';

/**
 * The only code that reads or writes the staff aggregate's tables: `staff`, `api_tokens`,
 * `board_sessions` and `absences`. The use cases are in service.ts, tokens.ts and board-sessions.ts.
 */

export type StaffMember = typeof staff.$inferSelect;
export type StaffRow = StaffMember;

// ---- staff

export async function insertStaff(tx: Tx, row: typeof staff.$inferInsert): Promise<StaffMember> {
  const [inserted] = await tx.insert(staff).values(row).returning();
  return inserted!;
}

export async function findStaffMember(tx: Tx, id: string): Promise<StaffMember | undefined> {
  const [row] = await tx.select().from(staff).where(eq(staff.id, id));
  return row;
}

/** A page of staff in id order. */
export async function listStaffRows(
  tx: Tx,
  filter: { programId?: string; role?: Role; active?: boolean; limit: number; after?: string },
): Promise<StaffMember[]> {
  const where: SQL[] = [];
  if (filter.programId) where.push(eq(staff.programId, filter.programId));
  if (filter.role) where.push(eq(staff.role, filter.role));
  if (filter.active !== undefined) where.push(eq(staff.active, filter.active));
  if (filter.after) where.push(gt(staff.id, filter.after));
  return tx
    .select()
    .from(staff)
    .where(and(...where))
    .orderBy(asc(staff.id))
    .limit(filter.limit + 1);
}

export async function updateStaffRow(
  tx: Tx,
  id: string,
  set: Partial<Pick<StaffMember, 'name' | 'specialisms' | 'languages' | 'maxCaseload' | 'avoid' | 'active'>>,
): Promise<StaffMember | undefined> {
  const [row] = await tx
    .update(staff)
    .set({ ...set, version: sql`${staff.version} + 1`, updatedAt: sql`now()` })
    .where(eq(staff.id, id))
    .returning();
  return row;
}

/** Every active admin, locked in id order (so two callers never deadlock). */
export async function lockActiveAdmins(tx: Tx): Promise<string[]> {
  const rows = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.role, 'admin'), eq(staff.active, true)))
    .orderBy(asc(staff.id))
    .for('update');
  return rows.map((r) => r.id);
}

export async function anyAdminExists(tx: Tx): Promise<boolean> {
  const rows = await tx.select({ id: staff.id }).from(staff).where(eq(staff.role, 'admin')).limit(1);
  return rows.length > 0;
}

/** The oldest active admin (the one named `name`, if given). */
export async function oldestActiveAdmin(tx: Tx, name?: string): Promise<{ id: string; name: string } | undefined> {
  const [row] = await tx
    .select({ id: staff.id, name: staff.name })
    .from(staff)
    .where(and(eq(staff.role, 'admin'), eq(staff.active, true), name === undefined ? undefined : eq(staff.name, name)))
    .orderBy(asc(staff.createdAt), asc(staff.id))
    .limit(1);
  return row;
}

/** A program's active interveners, for ranking candidates. */
export async function activeInterveners(
  tx: Tx,
  programId: string,
): Promise<Pick<StaffMember, 'id' | 'name' | 'specialisms' | 'languages' | 'maxCaseload' | 'avoid'>[]> {
  return tx
    .select({
      id: staff.id,
      name: staff.name,
      specialisms: staff.specialisms,
      languages: staff.languages,
      maxCaseload: staff.maxCaseload,
      avoid: staff.avoid,
    })
    .from(staff)
    .where(and(eq(staff.programId, programId), eq(staff.role, 'intervener'), eq(staff.active, true)));
}

/** Locks an intervener of the program: concurrent assignments to them serialise, so the cap holds. */
export async function lockIntervener(tx: Tx, id: string, programId: string): Promise<StaffMember | undefined> {
  const [row] = await tx
    .select()
    .from(staff)
    .where(and(eq(staff.id, id), eq(staff.programId, programId), eq(staff.role, 'intervener')))
    .for('update');
  return row;
}

/**
 * Share-locks a staff member's row: a write that raises their exposure (a touchpoint with
 * minutesSpent, logged time) waits for an assignment deciding on their cap (which holds the row
 * for update), and the assignment waits for it, so a cap is never decided on a stale sum.
 */
export async function shareLockStaff(tx: Tx, id: string): Promise<void> {
  await tx.select({ id: staff.id }).from(staff).where(eq(staff.id, id)).for('share');
}

/** Those of `ids` still active. */
export async function activeAmong(tx: Tx, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(and(inArray(staff.id, [...ids]), eq(staff.active, true)));
  return rows.map((r) => r.id);
}

/** Active leads of a program (and, for escalations, active admins). */
export async function activeLeadIds(tx: Tx, programId: string, withAdmins: boolean): Promise<string[]> {
  const rows = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(
      and(
        eq(staff.active, true),
        withAdmins
          ? or(and(eq(staff.programId, programId), eq(staff.role, 'lead')), and(isNull(staff.programId), eq(staff.role, 'admin')))
          : and(eq(staff.programId, programId), inArray(staff.role, ['lead'])),
      ),
    );
  return rows.map((r) => r.id);
}

/** Names of a program's staff by id, for reports a lead reads (leads may see staff names). */
export async function staffNames(tx: Tx, programId: string, ids: string[]): Promise<Map<string, string>> {
  const uuids = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (uuids.length === 0) return new Map();
  const rows = await tx
    .select({ id: staff.id, name: staff.name })
    .from(staff)
    .where(and(eq(staff.programId, programId), inArray(staff.id, uuids)));
  return new Map(rows.map((r) => [r.id, r.name]));
}

// ---- api_tokens

export async function insertToken(tx: Tx, row: { id: string; staffId: string; label: string; tokenHash: string }): Promise<void> {
  await tx.insert(apiTokens).values(row);
}

/** Revokes a token not yet revoked: 'revoked', 'already' (revoked before) or 'missing'. */
export async function revokeTokenRow(tx: Tx, tokenId: string, now: Date): Promise<'revoked' | 'already' | 'missing'> {
  const rows = await tx
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (rows.length > 0) return 'revoked';
  const exists = await tx.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.id, tokenId));
  return exists.length > 0 ? 'already' : 'missing';
}

/** Every request that is not remembered authenticates: built once, prepared on each connection. */
export const tokenHolder = builtOnce((db: Tx) =>
  db
    .select({
      tokenId: apiTokens.id,
      tokenHash: apiTokens.tokenHash,
      lastUsedAt: apiTokens.lastUsedAt,
      staffId: staff.id,
      role: staff.role,
      programId: staff.programId,
      name: staff.name,
    })
    .from(apiTokens)
    .innerJoin(staff, eq(staff.id, apiTokens.staffId))
    .where(and(eq(apiTokens.tokenHash, sql.placeholder('hash')), isNull(apiTokens.revokedAt), eq(staff.active, true)))
    .prepare('overture_auth_by_token'),
);

export async function touchToken(tx: Tx, tokenId: string): Promise<void> {
  await tx.update(apiTokens).set({ lastUsedAt: sql`now()` }).where(eq(apiTokens.id, tokenId));
}

// ---- board_sessions

export async function insertBoardSession(
  tx: Tx,
  row: { idHash: string; staffId: string; tokenId: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await tx.delete(boardSessions).where(lte(boardSessions.expiresAt, row.createdAt));
  await tx.insert(boardSessions).values(row);
}

/** The admin of a live session whose token is unrevoked and who is still an active admin. */
export async function boardSessionAdmin(tx: Tx, idHash: string, now: Date): Promise<string | undefined> {
  const [row] = await tx
    .select({ staffId: staff.id })
    .from(boardSessions)
    .innerJoin(apiTokens, and(eq(apiTokens.id, boardSessions.tokenId), eq(apiTokens.staffId, boardSessions.staffId)))
    .innerJoin(staff, eq(staff.id, boardSessions.staffId))
    .where(
      and(
        eq(boardSessions.idHash, idHash),
        gt(boardSessions.expiresAt, now),
        isNull(apiTokens.revokedAt),
        eq(staff.active, true),
        eq(staff.role, 'admin'),
      ),
    );
  return row?.staffId;
}

export async function deleteBoardSession(tx: Tx, idHash: string): Promise<void> {
  await tx.delete(boardSessions).where(eq(boardSessions.idHash, idHash));
}

// ---- absences

export type AbsenceRow = typeof absences.$inferSelect;

export async function insertAbsence(tx: Tx, row: typeof absences.$inferInsert): Promise<AbsenceRow> {
  const [inserted] = await tx.insert(absences).values(row).returning();
  return inserted!;
}

export async function findAbsence(tx: Tx, id: string): Promise<AbsenceRow | undefined> {
  const [row] = await tx
    .select()
    .from(absences)
    .where(and(eq(absences.id, id), isNull(absences.deletedAt)));
  return row;
}

/** A staff member's absences not deleted, latest first; one more than `limit`. */
export async function listAbsencesOf(tx: Tx, staffId: string, limit: number, after?: string): Promise<AbsenceRow[]> {
  return tx
    .select()
    .from(absences)
    .where(and(eq(absences.staffId, staffId), isNull(absences.deletedAt), after ? sql`${absences.id} < ${after}` : undefined))
    .orderBy(sql`${absences.id} desc`)
    .limit(limit + 1);
}

export async function deleteAbsence(tx: Tx, id: string, now: Date): Promise<void> {
  await tx.update(absences).set({ deletedAt: now }).where(eq(absences.id, id));
}

/** The absence of a staff member that covers `at`, if any (the one that started last). */
export async function absenceAt(tx: Tx, staffId: string, at: Date): Promise<AbsenceRow | undefined> {
  const [row] = await tx
    .select()
    .from(absences)
    .where(and(eq(absences.staffId, staffId), isNull(absences.deletedAt), lte(absences.from, at), gt(absences.to, at)))
    .orderBy(sql`${absences.from} desc`)
    .limit(1);
  return row;
}

/** Ids among `ids` absent at `at`. */
export async function absentAmong(tx: Tx, ids: string[], at: Date): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({ staffId: absences.staffId, to: sql<Date>`max(${absences.to})`.mapWith(absences.to) })
    .from(absences)
    .where(and(inArray(absences.staffId, ids), isNull(absences.deletedAt), lte(absences.from, at), gt(absences.to, at)))
    .groupBy(absences.staffId);
  return new Map(rows.map((r) => [r.staffId, r.to]));
}

/**
 * Who a notification for each of `ids` goes to now: the staff member themself when active and
 * present; their cover while they are absent with one (an active cover); null (the program's
 * leads) when they are inactive or absent without cover. Only interveners are stood in for.
 */
export async function standIns(tx: Tx, ids: string[]): Promise<Map<string, { to: string | null; programId: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({
      id: staff.id,
      role: staff.role,
      active: staff.active,
      programId: staff.programId,
      absent: sql<boolean>`${absentNow(sql`"staff"."id"`)}`,
      coverId: sql<string | null>`(select a.cover_id from absences a join staff c on c.id = a.cover_id and c.active
        where a.staff_id = "staff"."id" and a.deleted_at is null and a."from" <= now() and a."to" > now()
        order by a."from" desc limit 1)`,
    })
    .from(staff)
    .where(inArray(staff.id, ids));
  return new Map(
    rows.map((r) => [
      r.id,
      { to: r.role !== 'intervener' || (r.active && !r.absent) ? r.id : r.active && r.coverId ? r.coverId : null, programId: r.programId },
    ]),
  );
}

/** SQL: the staff member `staffId` (a column or parameter) is absent now (the database's clock, to the second). */
export function absentNow(staffId: SQL | ReturnType<typeof sql.placeholder>): SQL {
  return sql`exists (select 1 from absences a where a.staff_id = ${staffId} and a.deleted_at is null and a."from" <= now() and a."to" > now())`;
}

/** SQL: the staff members `coverId` covers now, as a subquery for `holder in (…)`. */
export function coveredBy(coverId: SQL | ReturnType<typeof sql.placeholder> | string): SQL {
  return sql`(select a.staff_id from absences a where a.cover_id = ${coverId} and a.deleted_at is null and a."from" <= now() and a."to" > now())`;
}

/** Plain-SQL text of the same test, for a prepared statement: `col` is a column expression, never a value. */
export const reachableNowSql = (col: string) =>
  `exists (select 1 from staff s where s.id = ${col} and s.active and not exists (select 1 from absences a where a.staff_id = s.id and a.deleted_at is null and a."from" <= now() and a."to" > now()))`;

/** SQL: the deactivated staff, as a subquery for `holder in (…)`. */
export function inactiveStaff(): SQL {
  return sql`(select ${staff.id} from ${staff} where not ${staff.active})`;
}

/** The role of each of these staff members (exports show staff by role, never by id or name). */
export async function rolesOf(tx: Tx, ids: readonly string[]): Promise<Map<string, StaffMember['role']>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const rows = await tx.select({ id: staff.id, role: staff.role }).from(staff).where(inArray(staff.id, wanted));
  return new Map(rows.map((r) => [r.id, r.role]));
}
