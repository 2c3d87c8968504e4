import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../src/config/env.js';
import { assertQueuePrefixOwned, claimPrefix, databaseIdentity, ownerKey, QueuePrefixError } from '../src/queue/ownership.js';
import { postgresSchema, redisPrefix } from '../src/queue/system.js';
import { RATE_LIMIT_SYNC_MS } from '../src/http/plugins/security.js';
import { createTestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { deleteRedisPrefix, freePort, hasRedisServer, testRedis } from './faults/procs.js';

const quiet = pino({ level: 'silent' });

describe('queue prefix naming', () => {
  it('hash-tags the Redis prefix and keeps the default PostgreSQL schema where earlier versions had it', () => {
    expect(redisPrefix('overture')).toBe('{overture}');
    expect(redisPrefix('staging-eu')).toBe('{staging-eu}');
    expect(ownerKey('staging-eu')).toBe('{staging-eu}:owner');
    expect(postgresSchema('overture')).toBe('bullmq');
    expect(postgresSchema('Staging-2_eu')).toBe('bullmq_Staging_2_eu');
    // The longest prefix still fits PostgreSQL's 63-byte identifiers.
    expect(postgresSchema('x'.repeat(40)).length).toBeLessThanOrEqual(63);
  });
});

describe('the identity that names a database', () => {
  let one: TestDatabase;
  let two: TestDatabase;
  const role = `ovt_probe_${randomBytes(4).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const asRole = (db: TestDatabase) => {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'probe';
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    pools.push(pool);
    return pool;
  };

  beforeAll(async () => {
    one = await createTestDatabase();
    two = await createTestDatabase();
    await one.pool.query(`create role ${role} login password 'probe' nosuperuser nocreatedb nocreaterole`);
    for (const db of [one, two]) await db.pool.query(`grant select, insert on data_migrations to ${role}`);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await one?.close();
    await two?.close();
    const admin = new pg.Client(inject('adminUrl'));
    await admin.connect();
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('is the cluster identifier with the database name: stable, another for another database, readable without superuser', async () => {
    const first = await databaseIdentity(one.pool);
    expect(first).toMatch(/^cluster:[0-9a-f]{64}$/);
    expect(await databaseIdentity(one.pool)).toBe(first);
    expect(await databaseIdentity(two.pool)).not.toBe(first);
    // What the database is does not depend on who asks.
    expect(await databaseIdentity(asRole(one))).toBe(first);
    const { rows } = await one.pool.query<{ s: string }>('select system_identifier::text as s from pg_control_system()');
    expect(first).toBe(`cluster:${createHash('sha256').update(`${rows[0]!.s}/${one.name}`).digest('hex')}`);
  });

  it('falls back on a mark kept in the database when pg_control_system() is refused', async () => {
    for (const db of [one, two]) await db.pool.query('revoke execute on function pg_catalog.pg_control_system() from public');
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void warnings.push(l) });
    const first = await databaseIdentity(asRole(one), logger);
    expect(first).toMatch(/^mark:[0-9a-f]{64}$/);
    expect(warnings.join('')).toContain('pg_control_system()');
    expect(await databaseIdentity(asRole(one))).toBe(first);
    expect(await databaseIdentity(asRole(two))).not.toBe(first);
    const marks = await one.pool.query("select name from data_migrations where name = 'queue_owner_mark'");
    expect(marks.rowCount).toBe(1);
    for (const db of [one, two]) await db.pool.query('grant execute on function pg_catalog.pg_control_system() to public');
  });
});

describe.runIf(process.env['REDIS_URL'] || hasRedisServer)('the prefix owner key and the rate limiter keys on Redis', () => {
  let server: { url: string; stop(): Promise<void> };
  let redis: Redis;
  let db: TestDatabase;
  const used: string[] = [];
  const fresh = () => {
    const p = `t${randomBytes(5).toString('hex')}`;
    used.push(p);
    return p;
  };

  beforeAll(async () => {
    server = (await testRedis())!;
    redis = new Redis(server.url);
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const p of used.splice(0)) await deleteRedisPrefix(redis, p);
  });
  afterAll(async () => {
    redis?.disconnect();
    await db?.close();
    await server?.stop();
  });

  it('claims a free prefix once (SET NX), recognises its own, and refuses another identity', async () => {
    const prefix = fresh();
    expect(await claimPrefix(redis, prefix, 'cluster:aaa')).toBe('claimed');
    expect(await claimPrefix(redis, prefix, 'cluster:aaa')).toBe('owned');
    expect(await claimPrefix(redis, prefix, 'cluster:bbb')).toBe('foreign');
    expect(await redis.get(`{${prefix}}:owner`)).toBe('cluster:aaa');
    expect(await redis.ttl(`{${prefix}}:owner`)).toBe(-1);
  });

  it('a process on another database stops with one line naming OVERTURE_QUEUE_PREFIX (a ConfigError)', async () => {
    const prefix = fresh();
    await redis.set(ownerKey(prefix), 'cluster:another-database');
    const err = await assertQueuePrefixOwned({ redisUrl: server.url, prefix, pool: db.pool, logger: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueuePrefixError);
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(`OVERTURE_QUEUE_PREFIX "${prefix}"`);
    expect(await redis.get(ownerKey(prefix))).toBe('cluster:another-database');
    // Its own database: claimed, then recognised.
    const own = fresh();
    expect(await assertQueuePrefixOwned({ redisUrl: server.url, prefix: own, pool: db.pool, logger: quiet })).toBe('claimed');
    expect(await assertQueuePrefixOwned({ redisUrl: server.url, prefix: own, pool: db.pool, logger: quiet })).toBe('owned');
    expect(await redis.get(ownerKey(own))).toBe(await databaseIdentity(db.pool));
  });

  it('refuses to start unchecked when Redis cannot be reached, without printing the URL', async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const err = await assertQueuePrefixOwned({ redisUrl: url, prefix: 'overture', pool: db.pool, logger: quiet, waitMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueuePrefixError);
    expect((err as Error).message).toContain('OVERTURE_QUEUE_PREFIX');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('rate-limit counters live under {prefix}:rl:, one per address and one per token', async () => {
    const prefix = fresh();
    const t = await createTestApp({ redisUrl: server.url, rateLimit: { perIp: 50, perToken: 50 }, env: { OVERTURE_QUEUE_PREFIX: prefix } });
    try {
      const admin = await t.staff('admin', null);
      for (let i = 0; i < 3; i++) expect((await t.app.inject({ url: '/v1/me', headers: admin.auth })).statusCode).toBe(200);
      // Each process adds its counts to Redis in batches, every RATE_LIMIT_SYNC_MS.
      const counts = async () => {
        const ks = await redis.keys(`${redisPrefix(prefix)}*`);
        return Promise.all(ks.map((k) => redis.get(k)));
      };
      await expect.poll(counts, { timeout: 2_000, interval: RATE_LIMIT_SYNC_MS }).toEqual(['3', '3']);
      const keys = (await redis.keys(`${redisPrefix(prefix)}*`)).sort();
      expect(keys).toHaveLength(2);
      expect(keys[0]).toBe(`{${prefix}}:rl:ip:127.0.0.1`);
      expect(keys[1]).toMatch(new RegExp(`^\\{${prefix}\\}:rl:tok:[0-9a-f]{32}$`));
      for (const key of keys) {
        expect(await redis.get(key)).toBe('3');
        expect(await redis.pttl(key)).toBeGreaterThan(0);
      }
    } finally {
      await t.close();
    }
  });
});
