import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { trialStrata, trials } from '../../db/schema/index.js';

/** The only code that writes trials and trial_strata (a case's own arm is a column of the case). */

export type TrialRow = typeof trials.$inferSelect;
export type NewTrial = typeof trials.$inferInsert;

/** Stores a trial; undefined when the program already runs one (the partial unique index says no). */
export async function insertTrial(tx: Tx, t: NewTrial): Promise<TrialRow | undefined> {
  const [row] = await tx
    .insert(trials)
    .values(t)
    .onConflictDoNothing({ target: trials.programId, where: sql`${trials.status} = 'running'` })
    .returning();
  return row;
}

export async function findTrial(tx: Tx, id: string): Promise<TrialRow | undefined> {
  const [row] = await tx.select().from(trials).where(eq(trials.id, id));
  return row;
}

/**
 * The program's running trial, share-locked: a stop waits for the assignments allocating under it
 * to commit, and an allocation after the stop sees it stopped.
 */
export async function runningTrialOf(tx: Tx, programId: string): Promise<TrialRow | undefined> {
  const [row] = await tx
    .select()
    .from(trials)
    .where(and(eq(trials.programId, programId), eq(trials.status, 'running')))
    .for('share');
  return row;
}

export async function listTrialsOf(tx: Tx, programId: string): Promise<TrialRow[]> {
  return tx.select().from(trials).where(eq(trials.programId, programId)).orderBy(desc(trials.startedAt), desc(trials.id));
}

/** Stops a running trial; undefined when it was not running. */
export async function markStopped(tx: Tx, id: string, by: string, at: Date): Promise<TrialRow | undefined> {
  const [row] = await tx
    .update(trials)
    .set({ status: 'stopped', stoppedAt: at, stoppedBy: by })
    .where(and(eq(trials.id, id), eq(trials.status, 'running')))
    .returning();
  return row;
}

/**
 * Takes the stratum's next position (0-based) and counts it. The upsert holds the stratum's row
 * until commit, so concurrent allocations in one stratum take consecutive positions, and a rolled
 * back assignment gives its position back.
 */
export async function takeStratumPosition(tx: Tx, trialId: string, stratum: string): Promise<number> {
  const [row] = await tx
    .insert(trialStrata)
    .values({ trialId, stratum, allocated: 1 })
    .onConflictDoUpdate({ target: [trialStrata.trialId, trialStrata.stratum], set: { allocated: sql`${trialStrata.allocated} + 1` } })
    .returning({ allocated: trialStrata.allocated });
  return row!.allocated - 1;
}

/** How many cases each trial allocated, over all strata (trials with none are missing). */
export async function allocatedCounts(tx: Tx, trialIds: readonly string[]): Promise<Map<string, number>> {
  if (trialIds.length === 0) return new Map();
  const rows = await tx
    .select({ trialId: trialStrata.trialId, n: sql<number>`sum(${trialStrata.allocated})::int` })
    .from(trialStrata)
    .where(inArray(trialStrata.trialId, [...trialIds]))
    .groupBy(trialStrata.trialId);
  return new Map(rows.map((r) => [r.trialId, Number(r.n)]));
}

/** How many cases the trial allocated, over all strata. */
export async function allocatedCount(tx: Tx, trialId: string): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`coalesce(sum(${trialStrata.allocated}), 0)::int` })
    .from(trialStrata)
    .where(eq(trialStrata.trialId, trialId));
  return Number(row?.n ?? 0);
}
