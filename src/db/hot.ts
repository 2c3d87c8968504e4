import type pg from 'pg';
import type { Tx } from './client.js';

/**
 * Runs one of the few statements every write repeats as plain SQL, prepared by name on each
 * connection. drizzle's query builder costs more Node CPU per statement than PostgreSQL spends
 * running these (profiles in bench/RESULTS.md); on the hot write path that decides throughput.
 * Columns come back as named in the SQL (alias them to camelCase) and as node-postgres parses
 * them (timestamptz → Date, jsonb → value, bigint → number).
 */
/** `name` null: a one-off statement (parsed each time, still without the builder). */
export async function hotQuery<R extends pg.QueryResultRow>(tx: Tx, name: string | null, text: string, values: unknown[]): Promise<R[]> {
  // Both the database (a pool) and a transaction (its checked-out client) keep their
  // node-postgres client on the drizzle session.
  const client = (tx as unknown as { session: { client: pg.Pool | pg.PoolClient } }).session.client;
  const res = await client.query<R>(name ? { name: `overture_${name}`, text, values } : { text, values });
  return res.rows;
}
