import { and, asc, eq, gt } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { referrals } from '../../db/schema/index.js';
import type { ReferralStatus } from '../vocabulary.js';

/** The only code that reads or writes referrals. */

export type ReferralRow = typeof referrals.$inferSelect;
export type NewReferral = Omit<ReferralRow, 'status' | 'updatedAt'>;

export async function insertReferral(tx: Tx, r: NewReferral): Promise<ReferralRow> {
  const [row] = await tx
    .insert(referrals)
    .values({ ...r, updatedAt: r.createdAt })
    .returning();
  return row!;
}

/** A case's referrals oldest first (ids are time-ordered), after the id last seen. */
export function listReferralsOf(tx: Tx, caseId: string, limit: number, after?: string): Promise<ReferralRow[]> {
  return tx
    .select()
    .from(referrals)
    .where(and(eq(referrals.caseId, caseId), after ? gt(referrals.id, after) : undefined))
    .orderBy(asc(referrals.id))
    .limit(limit);
}

export async function findReferral(tx: Tx, id: string): Promise<ReferralRow | undefined> {
  const [row] = await tx.select().from(referrals).where(eq(referrals.id, id));
  return row;
}

export async function updateReferralStatus(tx: Tx, id: string, status: ReferralStatus, at: Date): Promise<ReferralRow> {
  const [row] = await tx.update(referrals).set({ status, updatedAt: at }).where(eq(referrals.id, id)).returning();
  return row!;
}

/** Whether the case has a referral (closing with outcome `referred` needs one). */
export async function hasReferral(tx: Tx, caseId: string): Promise<boolean> {
  const [row] = await tx.select({ id: referrals.id }).from(referrals).where(eq(referrals.caseId, caseId)).limit(1);
  return row !== undefined;
}

/** Erasure and retention: the basis and note (free text) go; where, with what consent and when stay. */
export async function eraseReferralTextOf(tx: Tx, caseId: string): Promise<void> {
  await tx.update(referrals).set({ basis: null, note: null }).where(eq(referrals.caseId, caseId));
}

/** Every referral of a case, oldest first (a subject access export). */
export function referralsOfCase(tx: Tx, caseId: string): Promise<ReferralRow[]> {
  return tx.select().from(referrals).where(eq(referrals.caseId, caseId)).orderBy(asc(referrals.id));
}
