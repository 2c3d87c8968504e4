import { and, asc, desc, eq, lt, lte } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { snapshotChainXactLock } from '../../db/locks.js';
import { reportSnapshots } from '../../db/schema/index.js';
import type { SNAPSHOT_REPORTS } from '../vocabulary.js';

/** The only code that reads or writes report_snapshots. */

export type SnapshotReport = (typeof SNAPSHOT_REPORTS)[number];
export type SnapshotRow = typeof reportSnapshots.$inferSelect;
export type SnapshotSummary = Omit<SnapshotRow, 'body'>;

/** Holds the program's snapshot chain until the transaction ends: one append at a time per program. */
export async function lockSnapshotChain(tx: Tx, programId: string): Promise<void> {
  await tx.execute(snapshotChainXactLock(programId));
}

/** The hash of the program's newest snapshot, undefined for its first. */
export async function lastSnapshotHash(tx: Tx, programId: string): Promise<string | undefined> {
  const [row] = await tx
    .select({ hash: reportSnapshots.hash })
    .from(reportSnapshots)
    .where(eq(reportSnapshots.programId, programId))
    .orderBy(desc(reportSnapshots.seq))
    .limit(1);
  return row?.hash;
}

export async function insertSnapshot(tx: Tx, values: Omit<SnapshotRow, 'seq'>): Promise<SnapshotRow> {
  const [row] = await tx.insert(reportSnapshots).values(values).returning();
  return row!;
}

export async function findSnapshot(tx: Tx, id: string): Promise<SnapshotRow | undefined> {
  const [row] = await tx.select().from(reportSnapshots).where(eq(reportSnapshots.id, id));
  return row;
}

const summaryColumns = {
  seq: reportSnapshots.seq,
  id: reportSnapshots.id,
  programId: reportSnapshots.programId,
  report: reportSnapshots.report,
  params: reportSnapshots.params,
  createdAt: reportSnapshots.createdAt,
  createdBy: reportSnapshots.createdBy,
  settingsVersion: reportSnapshots.settingsVersion,
  prevHash: reportSnapshots.prevHash,
  hash: reportSnapshots.hash,
};

/** The program's snapshots without their bodies, newest first, before the `seq` last seen. */
export async function listSnapshots(tx: Tx, programId: string, limit: number, beforeSeq?: number): Promise<SnapshotSummary[]> {
  return tx
    .select(summaryColumns)
    .from(reportSnapshots)
    .where(and(eq(reportSnapshots.programId, programId), beforeSeq !== undefined ? lt(reportSnapshots.seq, beforeSeq) : undefined))
    .orderBy(desc(reportSnapshots.seq))
    .limit(limit);
}

/** The program's chain from its first snapshot up to and including `seq`, oldest first. */
export async function snapshotChainUpTo(tx: Tx, programId: string, seq: number): Promise<SnapshotRow[]> {
  return tx
    .select()
    .from(reportSnapshots)
    .where(and(eq(reportSnapshots.programId, programId), lte(reportSnapshots.seq, seq)))
    .orderBy(asc(reportSnapshots.seq));
}
