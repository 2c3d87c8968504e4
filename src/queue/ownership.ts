import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError } from '../config/env.js';
import { ledgerMark } from '../db/data-migrations.js';
import { redisPrefix } from './system.js';

/*
 * The ownership guard (API.md, Environment). Two deployments sharing one Redis with one prefix take
 * each other's jobs, and a reminder processed against the wrong database is dropped. So the first
 * process of a deployment records, under `{prefix}:owner`, which database it serves; any later
 * process that serves another database refuses to start. Only the Redis backend needs this: the
 * PostgreSQL backend keeps its queues in a schema of the very database it serves, so a process can
 * never reach another database's jobs there.
 *
 * "The database" is the PostgreSQL cluster's system identifier (chosen at initdb; the same after
 * restarts, minor upgrades and failover to a streaming replica) together with the database's name:
 * another database on the same server, another server, and a dump restored elsewhere are all
 * another database. A physical copy (a base backup or a volume snapshot) keeps the identifier, so
 * a staging server cloned that way counts as the same one: give it its own prefix regardless.
 */

/** The refusal: a ConfigError, so the CLI prints its message as one line and exits 1. */
export class QueuePrefixError extends ConfigError {
  override name = 'QueuePrefixError';
}

/** The key holding the owner's identity; in the prefix's hash tag, like every queue key. */
export function ownerKey(prefix: string): string {
  return `${redisPrefix(prefix)}:owner`;
}

/** Used only when the role may not call pg_control_system() (a managed server may revoke it). */
const MARK = 'queue_owner_mark';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A stable name of the database `pool` reaches, as a string to compare: `cluster:<hash>`, or
 * `mark:<hash>` of a row written once into data_migrations when pg_control_system() is refused
 * (that row travels with a dump, so then a restored copy counts as the same database).
 */
export async function databaseIdentity(pool: pg.Pool, logger?: Logger): Promise<string> {
  try {
    // As text: the bigint does not fit a JS number.
    const { rows } = await pool.query<{ sysid: string; db: string }>(
      'select system_identifier::text as sysid, current_database() as db from pg_control_system()',
    );
    return `cluster:${sha256(`${rows[0]!.sysid}/${rows[0]!.db}`)}`;
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
  }
  logger?.warn('pg_control_system() is not allowed for this role: the queue prefix owner is named by a mark kept in this database instead');
  const mark = await ledgerMark(pool, MARK);
  return `mark:${sha256(`${mark.at}/${mark.db}`)}`;
}

export type Claim = 'claimed' | 'owned' | 'foreign';

/** Records `identity` as the prefix's owner unless one is recorded already (SET NX), and compares. */
export async function claimPrefix(redis: Redis, prefix: string, identity: string): Promise<Claim> {
  const key = ownerKey(prefix);
  // A key deleted between SET NX and GET (an operator resetting it) is simply claimed again.
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await redis.set(key, identity, 'NX')) === 'OK') return 'claimed';
    const owner = await redis.get(key);
    if (owner !== null) return owner === identity ? 'owned' : 'foreign';
  }
  throw new Error('the queue prefix owner key keeps disappearing');
}

export interface GuardOptions {
  redisUrl: string;
  prefix: string;
  pool: pg.Pool;
  logger: Logger;
  /** How long to wait for Redis at start (a compose stack may bring it up a moment later). */
  waitMs?: number;
}

/**
 * Called at start before any queue producer or worker exists: throws a QueuePrefixError when the
 * prefix belongs to another database, or when Redis cannot be reached to find out (starting
 * unchecked could take another deployment's jobs the moment Redis came back).
 */
export async function assertQueuePrefixOwned(opts: GuardOptions): Promise<Claim> {
  const identity = await databaseIdentity(opts.pool, opts.logger);
  const redis = await connectWithin(opts.redisUrl, opts.waitMs ?? 10_000, opts.prefix);
  try {
    const claim = await claimPrefix(redis, opts.prefix, identity);
    if (claim === 'foreign') {
      throw new QueuePrefixError(
        `OVERTURE_QUEUE_PREFIX "${opts.prefix}" on this Redis belongs to another database (key ${ownerKey(opts.prefix)}); give this deployment its own prefix`,
      );
    }
    if (claim === 'claimed') opts.logger.info({ prefix: opts.prefix }, 'queue prefix claimed for this database');
    return claim;
  } finally {
    redis.disconnect();
  }
}

async function connectWithin(url: string, ms: number, prefix: string): Promise<Redis> {
  const deadline = Date.now() + ms;
  for (;;) {
    const conn = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    conn.on('error', () => {});
    try {
      await conn.connect();
      return conn;
    } catch {
      conn.disconnect();
      if (Date.now() >= deadline) {
        // Never the URL itself: it may carry a password.
        throw new QueuePrefixError(
          `cannot reach Redis (REDIS_URL) to check that OVERTURE_QUEUE_PREFIX "${prefix}" belongs to this database`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
