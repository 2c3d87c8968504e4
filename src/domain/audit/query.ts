import { and, arrayContains, asc, eq, gt, or, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { auditLog } from '../../db/schema/index.js';
import { chainHash, GENESIS_HASH } from './log.js';

export type AuditRow = typeof auditLog.$inferSelect;

/** `programId`: only that program's entries (a dpo reads their own program's). */
export async function listAudit(db: Db, f: { actorId?: string; caseId?: string; programId?: string; afterSeq?: number; limit: number }) {
  const where: SQL[] = [];
  if (f.programId) where.push(eq(auditLog.programId, f.programId));
  if (f.actorId) where.push(eq(auditLog.actorId, f.actorId));
  // An entry about the case, or a list read that showed it.
  if (f.caseId) where.push(or(eq(auditLog.caseId, f.caseId), arrayContains(auditLog.caseIds, [f.caseId.toLowerCase()]))!);
  if (f.afterSeq !== undefined) where.push(gt(auditLog.seq, f.afterSeq));
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(asc(auditLog.seq))
    .limit(f.limit + 1);
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBrokenId: string | null;
}

/**
 * Walks the whole chain in order and recomputes every hash: an entry edited, inserted or removed
 * behind the application's back breaks the chain at the first entry that no longer fits. With
 * `programId`, only that program's entries are checked and counted (each against its stored
 * predecessor), so a break is named only when it is one of theirs.
 */
export async function verifyAudit(db: Db, batch = 5000, programId?: string): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let checked = 0;
  let afterSeq = 0;
  for (;;) {
    const rows = await db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(batch);
    if (rows.length === 0) return { ok: true, checked, firstBrokenId: null };
    for (const r of rows) {
      const expected = chainHash(prev, r);
      const fits = r.prevHash === prev && r.hash === expected;
      if (!programId) {
        if (!fits) return { ok: false, checked, firstBrokenId: r.id };
        checked++;
      } else if (r.programId === programId) {
        // A dpo's check: their program's entries, each against the entry before it (whoever's); others are walked, never named.
        if (!fits) return { ok: false, checked, firstBrokenId: r.id };
        checked++;
      }
      prev = r.hash;
    }
    afterSeq = rows.at(-1)!.seq;
  }
}
