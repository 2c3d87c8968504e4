import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { outreachAccounts } from '../../db/schema/index.js';

/** The only code that reads or writes outreach_accounts. */

export type OutreachAccountRow = typeof outreachAccounts.$inferSelect;
export type NewOutreachAccount = Omit<OutreachAccountRow, 'retiredAt'>;

export async function insertOutreachAccount(tx: Tx, a: NewOutreachAccount): Promise<OutreachAccountRow> {
  const [row] = await tx.insert(outreachAccounts).values(a).returning();
  return row!;
}

/** The program's accounts (retired ones included) in creation order, after the id last seen. */
export function listOutreachAccountsOf(tx: Tx, programId: string, limit: number, after?: string): Promise<OutreachAccountRow[]> {
  return tx
    .select()
    .from(outreachAccounts)
    .where(and(eq(outreachAccounts.programId, programId), after ? gt(outreachAccounts.id, after) : undefined))
    .orderBy(asc(outreachAccounts.id))
    .limit(limit);
}

export async function findOutreachAccount(tx: Tx, id: string): Promise<OutreachAccountRow | undefined> {
  const [row] = await tx.select().from(outreachAccounts).where(eq(outreachAccounts.id, id));
  return row;
}

/** Retires a live account; undefined when it was retired already. */
export async function markRetired(tx: Tx, id: string, at: Date): Promise<OutreachAccountRow | undefined> {
  const [row] = await tx
    .update(outreachAccounts)
    .set({ retiredAt: at })
    .where(and(eq(outreachAccounts.id, id), isNull(outreachAccounts.retiredAt)))
    .returning();
  return row;
}
