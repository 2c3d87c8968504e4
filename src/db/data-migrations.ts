import type pg from 'pg';
import { canonicalHandle } from '../domain/cases/profile.js';
import { openCaseOfProfile, profilesWithHandles, setProfileHandle } from '../domain/cases/store.js';
import type { Db, Tx } from './client.js';
import { dataMigrations } from './schema/index.js';

export interface DataStepResult {
  changed: number;
  /** Left as they were, with why (counts only: never a handle). */
  kept: Record<string, number>;
}

interface DataStep {
  name: string;
  run(tx: Tx): Promise<DataStepResult>;
}

/**
 * Stored handles in today's normal form (API.md, Cases): the duplicate check and the suppression
 * hash compare normalised handles, so one stored in an older form would slip past both. A
 * handle whose normal form another open case of the program already holds is left as it was
 * (that pair was one person flagged twice); so is one that normalises to nothing.
 */
export async function renormaliseStoredHandles(tx: Tx): Promise<DataStepResult> {
  const result: DataStepResult = { changed: 0, kept: {} };
  const keep = (why: string) => {
    result.kept[why] = (result.kept[why] ?? 0) + 1;
  };
  for (const row of await profilesWithHandles(tx)) {
    const handle = canonicalHandle(row.platform, row.handle!);
    if (handle === row.handle) continue;
    if (!handle) {
      keep('empty_once_normalised');
      continue;
    }
    if (row.open && (await openCaseOfProfile(tx, row.programId, row.platform, handle))) {
      keep('duplicate_of_open_case');
      continue;
    }
    await setProfileHandle(tx, row.caseId, handle);
    result.changed++;
  }
  return result;
}

const STEPS: DataStep[] = [{ name: '0008_renormalise_handles', run: renormaliseStoredHandles }];

/** Applies each data step once, in order, each in its own transaction (the caller holds the migration lock). */
export async function runDataMigrations(db: Db, log: (step: string, result: DataStepResult) => void = () => {}): Promise<void> {
  for (const step of STEPS) {
    await db.transaction(async (tx) => {
      const claimed = await tx
        .insert(dataMigrations)
        .values({ name: step.name })
        .onConflictDoNothing()
        .returning({ name: dataMigrations.name });
      if (claimed.length === 0) return;
      log(step.name, await step.run(tx));
    });
  }
}

/**
 * A row of the ledger that is not a step: written once, then only read; `at` (microseconds since
 * the epoch, as text) and the database's name, which travel with a dump of it.
 */
export async function ledgerMark(pool: pg.Pool, name: string): Promise<{ at: string; db: string }> {
  await pool.query('insert into data_migrations (name) values ($1) on conflict do nothing', [name]);
  const { rows } = await pool.query<{ at: string; db: string }>(
    'select (extract(epoch from applied_at) * 1000000)::bigint::text as at, current_database() as db from data_migrations where name = $1',
    [name],
  );
  return rows[0]!;
}
