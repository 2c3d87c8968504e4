import { asc, eq, gt, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { programSettingsHistory, programs } from '../../db/schema/index.js';

/** The only code that reads or writes `programs`. */

export type ProgramRow = typeof programs.$inferSelect;

export async function insertProgram(
  tx: Tx,
  row: { id: string; name: string; settings: Record<string, unknown>; webhookSecret: string | null },
): Promise<ProgramRow> {
  const [inserted] = await tx.insert(programs).values(row).returning();
  return inserted!;
}

export async function findProgram(tx: Tx, id: string): Promise<ProgramRow | undefined> {
  const [row] = await tx.select().from(programs).where(eq(programs.id, id));
  return row;
}

export async function programExists(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx.select({ id: programs.id }).from(programs).where(eq(programs.id, id));
  return row !== undefined;
}

/** A page of programs in id order (`only`: just that one, for staff of a program). */
export async function listProgramRows(tx: Tx, page: { only?: string; limit: number; after?: string }): Promise<ProgramRow[]> {
  const conditions = [];
  if (page.only !== undefined) conditions.push(eq(programs.id, page.only));
  if (page.after) conditions.push(gt(programs.id, page.after));
  return tx
    .select()
    .from(programs)
    .where(conditions.length ? sql.join(conditions, sql` and `) : undefined)
    .orderBy(asc(programs.id))
    .limit(page.limit + 1);
}

/** Writes a new name and settings if the row is still at `version`; undefined when it is not. */
export async function updateProgramRow(
  tx: Tx,
  id: string,
  version: number,
  set: { name: string; settings: Record<string, unknown>; webhookSecret?: string | null; settingsChanged?: boolean },
): Promise<ProgramRow | undefined> {
  const { settingsChanged, ...values } = set;
  const [row] = await tx
    .update(programs)
    .set({
      ...values,
      ...(settingsChanged ? { settingsVersion: sql`${programs.settingsVersion} + 1` } : {}),
      version: sql`${programs.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(sql`${programs.id} = ${id} and ${programs.version} = ${version}`)
    .returning();
  return row;
}

/** Every program's id and stored settings, in id order (the scheduled jobs' loop). */
export async function allProgramSettings(tx: Tx): Promise<{ id: string; stored: unknown }[]> {
  return tx.select({ id: programs.id, stored: programs.settings }).from(programs).orderBy(asc(programs.id));
}

/** The stored settings overrides (unresolved: programs/settings.ts resolves them). */
export async function storedSettings(tx: Tx, programId: string): Promise<{ stored: unknown } | undefined> {
  const [p] = await tx.select({ settings: programs.settings }).from(programs).where(eq(programs.id, programId));
  return p && { stored: p.settings };
}

/** Stored settings and the webhook secret, for a delivery. */
export async function webhookTargetOf(tx: Tx, programId: string): Promise<{ stored: unknown; secret: string | null } | undefined> {
  const [p] = await tx
    .select({ stored: programs.settings, secret: programs.webhookSecret })
    .from(programs)
    .where(eq(programs.id, programId));
  return p;
}

/**
 * The stored overrides as a scalar subquery, for another store's hot-path statement that reads
 * them in the same round trip (resolve the column with resolveSettings). `programId` is an SQL
 * expression of that statement (a column or a parameter), never a value.
 */
export const storedSettingsSql = (programId: string) => `(select settings from programs where id = ${programId})`;

/**
 * The program's settings version, its row share-locked until the transaction ends so the settings
 * cannot change while a report is frozen under that version; undefined when there is no such program.
 */
export async function lockSettingsVersion(tx: Tx, programId: string): Promise<number | undefined> {
  const [p] = await tx.select({ v: programs.settingsVersion }).from(programs).where(eq(programs.id, programId)).for('share');
  return p?.v;
}

export type SettingsChange = typeof programSettingsHistory.$inferSelect;

export async function insertSettingsChange(tx: Tx, row: typeof programSettingsHistory.$inferInsert): Promise<void> {
  await tx.insert(programSettingsHistory).values(row);
}

/** Every recorded change of a program's settings, newest first. */
export async function listSettingsChanges(tx: Tx, programId: string, limit: number): Promise<SettingsChange[]> {
  return tx
    .select()
    .from(programSettingsHistory)
    .where(eq(programSettingsHistory.programId, programId))
    .orderBy(sql`${programSettingsHistory.version} desc`)
    .limit(limit);
}
