import { type SQL, sql } from 'drizzle-orm';
import type { Db } from './client.js';

/**
 * Every PostgreSQL advisory lock Overture takes, in one place so no two uses share a number.
 * Numbers are fixed: processes of different versions must agree on them during a rolling deploy.
 */
export const LOCKS = {
  /** Session lock held while migrations run, so concurrent starts migrate once. */
  migrate: 7242001,
  /** Transaction lock: the bootstrap admin is created once, however many processes start. */
  bootstrapAdmin: 7242002,
  /** Transaction lock on the audit hash chain; taken in SQL by audit_append (migrations 0005, 0006), listed to reserve it. */
  auditChain: 7242003,
  /** Transaction lock: concurrent worker starts upsert each job scheduler once. */
  schedulers: 7242004,
  /** Transaction lock (two keys: this and hashtext(programId)) on one program's report-snapshot hash chain (reports/snapshot-store.ts). */
  snapshotChain: 7242005,
} as const;

export type LockName = keyof typeof LOCKS;

/** `pg_advisory_xact_lock` on one of the fixed locks, released at commit or rollback. */
export function xactLock(name: LockName): SQL {
  return sql`select pg_advisory_xact_lock(${LOCKS[name]})`;
}

type Transaction = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Runs `work` in a transaction that holds one of the fixed locks (other holders wait their turn). */
export async function underLock<T>(db: Db, name: LockName, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(xactLock(name));
    return work(tx);
  });
}

/**
 * Per-profile transaction lock on hashtextextended(`programId/platform/handle`), so two flags of
 * the same profile serialise; the key is a parameter, never in the statement text.
 */
export function profileXactLock(key: string): SQL {
  return sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}

/**
 * Per-program transaction lock on the report-snapshot hash chain: the two-key form
 * (LOCKS.snapshotChain, hashtext(programId)), whose key space never meets the one-key locks above.
 */
export function snapshotChainXactLock(programId: string): SQL {
  return sql`select pg_advisory_xact_lock(${LOCKS.snapshotChain}::int, hashtext(${programId}))`;
}
