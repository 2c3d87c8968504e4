import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import type { Db } from './client.js';
import { runDataMigrations } from './data-migrations.js';
import { LOCKS } from './locks.js';

/** The package's migrations/, found from src/db (tsx) or dist/src/db (compiled). */
export const MIGRATIONS_DIR = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    dir = path.dirname(dir);
    if (existsSync(path.join(dir, 'migrations', 'meta', '_journal.json'))) return path.join(dir, 'migrations');
  }
  throw new Error('migrations/ not found next to the package');
})();

interface Journal {
  entries: { idx: number; tag: string; when: number }[];
}

let shipped: Journal | undefined;
/** The migrations this build ships: read once (readyz asks on every probe). */
function journal(): Journal {
  shipped ??= JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as Journal;
  return shipped;
}

/** Applies pending migrations; concurrent callers are serialised by an advisory lock. */
export async function runMigrations(db: Db): Promise<void> {
  const client = await db.$client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [LOCKS.migrate]);
    await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    await runDataMigrations(db);
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCKS.migrate]).catch(() => {});
    client.release();
  }
}

export interface MigrationStatus {
  applied: number;
  expected: number;
  current: boolean;
}

/** Compares what the database applied with the migrations this build ships. */
export async function migrationStatus(pool: pg.Pool): Promise<MigrationStatus> {
  const expected = journal().entries;
  const last = expected.at(-1)?.when ?? 0;
  let applied = 0;
  let lastApplied = 0;
  try {
    const res = await pool.query<{ n: number; last: string | null }>(
      'select count(*)::int as n, max(created_at)::text as last from drizzle.__drizzle_migrations',
    );
    applied = res.rows[0]?.n ?? 0;
    lastApplied = Number(res.rows[0]?.last ?? 0);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P01' && (err as { code?: string }).code !== '3F000') throw err;
  }
  return { applied, expected: expected.length, current: applied >= expected.length && lastApplied >= last };
}
