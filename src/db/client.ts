import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/** A transaction or the database itself: domain functions accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export interface DbHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

// Keep bigint counts as numbers; timestamps stay Date objects via drizzle.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createDb(
  url: string,
  opts: {
    max?: number;
    onError?: (err: Error) => void;
    /** Called once per statement sent (the statement counter of /metrics). */
    onQuery?: () => void;
  } = {},
): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 20,
    // Fail within seconds when PostgreSQL is down: clients get a 503, not a hang.
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: 'overture',
    // Day arithmetic on ISO durations ('P1D'::interval) must not depend on the server's zone.
    options: '-c timezone=UTC',
  });
  // A client dying (server restart) must not crash the process: idle ones are reported by the
  // pool, checked-out ones between two queries only by the client itself.
  pool.on('error', (err) => opts.onError?.(err));
  pool.on('connect', (client) => {
    client.on('error', (err) => opts.onError?.(err));
    const counted = opts.onQuery;
    if (counted) {
      const query = client.query;
      client.query = function countedQuery(this: pg.PoolClient, ...args: unknown[]) {
        counted();
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof client.query;
    }
  });
  const db = drizzle(pool, { schema }) as Db;
  return {
    db,
    pool,
    async close() {
      await pool.end();
    },
  };
}

/** The same server URL, pointing at another database (tests and benches make their own). */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** One round trip that proves the database answers (readiness and worker health); throws if not. */
export async function ping(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}

/** True for the database itself (a pool), false for a transaction: prepared reads run only on the pool. */
export function isPool(tx: Tx): tx is Db {
  return '$client' in tx;
}
