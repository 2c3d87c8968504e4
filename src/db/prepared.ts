import { getTableColumns, type Table } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Tx } from './client.js';

/**
 * Runs one of the few statements every write repeats as plain SQL, prepared by name on each
 * connection. drizzle's query builder costs more Node CPU per statement than PostgreSQL spends
 * running these (profiles in bench/RESULTS.md); on the hot write path that decides throughput.
 * Columns come back as named in the SQL (alias them to camelCase) and as node-postgres parses
 * them (timestamptz → Date, jsonb → value, bigint → number).
 */
/** A statement prepared by `name` (as hotQuery runs it), kept to run later or along with another. */
export interface Statement {
  name: string;
  text: string;
  values: unknown[];
}

/** `name` null: a one-off statement (parsed each time, still without the builder). */
export async function hotQuery<R extends pg.QueryResultRow>(tx: Tx, name: string | null, text: string, values: unknown[]): Promise<R[]> {
  // Both the database (a pool) and a transaction (its checked-out client) keep their
  // node-postgres client on the drizzle session.
  const client = (tx as unknown as { session?: { client?: pg.Pool | pg.PoolClient } }).session?.client;
  // drizzle-orm keeps this on an internal field: fail loudly if an upgrade moves it.
  if (typeof client?.query !== 'function')
    throw new Error('hotQuery: no node-postgres client on the drizzle session (drizzle-orm internals changed?)');
  const res = await client.query<R>(name ? { name: `overture_${name}`, text, values } : { text, values });
  return res.rows;
}

type ColumnKey<T extends Table> = keyof T['_']['columns'] & string;

function columnName<T extends Table>(table: T, key: ColumnKey<T>): string {
  const col = (getTableColumns(table) as Record<string, { name: string }>)[key];
  if (!col) throw new Error(`no column ${key}`);
  return `"${col.name}"`;
}

/** Every column as `"snake_name" as "camelKey"` (qualified by `from`): rows come back shaped like drizzle's. */
export function selectList(table: Table, from?: string): string {
  return Object.entries(getTableColumns(table))
    .map(([key, col]) => `${from ? `${from}.` : ''}"${col.name}" as "${key}"`)
    .join(', ');
}

/** `insert into t (keys…) values ($1…) returning *`, the row shaped like drizzle's. */
export function insertReturning<T extends Table>(table: T, keys: readonly ColumnKey<T>[]): string {
  return `insert into "${getTableConfig(table).name}" (${keys.map((k) => columnName(table, k)).join(', ')})
    values (${keys.map((_, i) => `$${i + 1}`).join(', ')}) returning ${selectList(table)}`;
}

/** `"snake_name" = $n, …` for an UPDATE's SET, numbered from `first`. */
export function setList<T extends Table>(table: T, keys: readonly ColumnKey<T>[], first: number): string {
  return keys.map((k, i) => `${columnName(table, k)} = $${first + i}`).join(', ');
}

/**
 * A drizzle query built once per database handle: `.prepare(name)` queries on the hot read paths
 * (token lookup, case read, caseload), prepared by name on each connection of its pool.
 */
export function builtOnce<D extends object, Q>(build: (db: D) => Q): (db: D) => Q {
  const built = new WeakMap<D, Q>();
  return (db) => {
    let q = built.get(db);
    if (!q) {
      q = build(db);
      built.set(db, q);
    }
    return q;
  };
}
