import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb, type DbHandle, withDatabase } from '../../src/db/client.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { envFlag, log, onCleanup } from './env.js';

/** Where bench databases come from, chosen once per `npm run bench`. */
export interface BenchPostgres {
  /** 'given' (BENCH_DATABASE_URL), 'server' (TEST_DATABASE_URL) or 'embedded'. */
  kind: 'given' | 'server' | 'embedded';
  /** A fresh, migrated database (or BENCH_DATABASE_URL itself, migrated). */
  database(label: string): Promise<BenchDatabase>;
  /** server_version of the PostgreSQL in use. */
  version(): Promise<string>;
  close(): Promise<void>;
}

export interface BenchDatabase {
  url: string;
  name: string;
  /** Drops the database (not when it is BENCH_DATABASE_URL). */
  drop(): Promise<void>;
}

async function migrate(url: string) {
  const handle = createDb(url, { max: 2 });
  try {
    await runMigrations(handle.db);
  } finally {
    await handle.close();
  }
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/**
 * BENCH_DATABASE_URL: used as it is (migrated, never dropped; its data stays). Else
 * TEST_DATABASE_URL: a fresh database on that server per bench, dropped afterwards. Else an
 * embedded PostgreSQL in a temp dir (fsync off), stopped and removed afterwards.
 */
export async function openBenchPostgres(): Promise<BenchPostgres> {
  const given = process.env['BENCH_DATABASE_URL'];
  if (given) {
    return {
      kind: 'given',
      async database() {
        await migrate(given);
        return { url: given, name: new URL(given).pathname.slice(1), drop: async () => {} };
      },
      version: async () => (await query<{ server_version: string }>(given, 'show server_version'))[0]!.server_version,
      close: async () => {},
    };
  }
  let adminUrl = process.env['TEST_DATABASE_URL'];
  let embedded: EmbeddedServer | undefined;
  let tmp: string | undefined;
  if (!adminUrl) {
    tmp = await mkdtemp(path.join(tmpdir(), 'overture-bench-'));
    // As root the server runs as `postgres`, which must be able to enter the directory.
    await chmod(tmp, 0o755);
    log(`bench: starting an embedded PostgreSQL in ${tmp} (set TEST_DATABASE_URL or BENCH_DATABASE_URL to use yours)`);
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'postgres'),
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    adminUrl = embedded.url;
  }
  const admin = adminUrl;
  const dir = tmp;
  const created = new Set<string>();
  // BENCH_KEEP_DB=1 keeps the bench databases (on TEST_DATABASE_URL) for a look afterwards.
  const keep = envFlag('BENCH_KEEP_DB') && !embedded;
  const dropDb = async (name: string) => {
    created.delete(name);
    if (keep) {
      log(`bench: kept database ${withDatabase(admin, name)} (BENCH_KEEP_DB)`);
      return;
    }
    await query(admin, `drop database if exists ${name} with (force)`);
  };
  const close = async () => {
    for (const name of [...created]) await dropDb(name).catch(() => {});
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  const forget = onCleanup('bench postgres', close);
  return {
    kind: embedded ? 'embedded' : 'server',
    async database(label) {
      const name = `overture_bench_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
      await query(admin, `create database ${name}`);
      created.add(name);
      const url = withDatabase(admin, name);
      await migrate(url);
      return { url, name, drop: () => dropDb(name) };
    },
    version: async () => (await query<{ server_version: string }>(admin, 'show server_version'))[0]!.server_version,
    async close() {
      forget();
      await close();
    },
  };
}

/** A pool on a bench database, closed by the cleanup list if the bench dies. */
export function openPool(url: string, max = 10): DbHandle {
  const handle = createDb(url, { max, onError: () => {} });
  let closed = false;
  const forget = onCleanup('bench pool', async () => {
    if (!closed) await handle.pool.end();
  });
  return {
    ...handle,
    async close() {
      if (closed) return;
      closed = true;
      forget();
      await handle.close();
    },
  };
}
