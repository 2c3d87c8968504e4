import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedRedisCounters } from '../src/http/plugins/security.js';
import { deleteRedisPrefix, hasRedisServer, testRedis } from './faults/procs.js';

const WINDOW = 60_000;

/**
 * The rate limits' counters: each API process answers from Redis' last shared count plus its own
 * requests since, and adds its requests to Redis in batches (no Redis round trip per request).
 * Two instances on one namespace stand for two API processes.
 */
describe.runIf(process.env['REDIS_URL'] || hasRedisServer)('BatchedRedisCounters', () => {
  let server: { url: string; stop(): Promise<void> };
  let redis: Redis;
  const prefixes: string[] = [];
  const conns: Redis[] = [];
  beforeAll(async () => {
    server = (await testRedis())!;
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteRedisPrefix(redis, p);
    for (const c of conns) c.disconnect();
    redis.disconnect();
    await server.stop();
  });
  const fresh = () => {
    const p = `rltest${randomBytes(4).toString('hex')}`;
    prefixes.push(p);
    return `{${p}}:rl:`;
  };
  const counters = (ns: string, now?: () => number) => {
    const c = new Redis(server.url, { maxRetriesPerRequest: 1 });
    conns.push(c);
    // A long sync interval: the tests flush by hand.
    return new BatchedRedisCounters(c, ns, 60_000, now);
  };

  it('counts each request at once, without waiting for Redis, and adds them in one batch', async () => {
    const ns = fresh();
    const a = counters(ns);
    const seen = Array.from({ length: 10 }, () => a.incr('ip:1', WINDOW).current);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await redis.get(`${ns}ip:1`)).toBeNull();
    await a.flush(WINDOW);
    expect(await redis.get(`${ns}ip:1`)).toBe('10');
    const ttl = await redis.pttl(`${ns}ip:1`);
    expect(ttl).toBeGreaterThan(WINDOW - 5_000);
    expect(ttl).toBeLessThanOrEqual(WINDOW);
    expect(a.incr('ip:1', WINDOW).current).toBe(11);
  });

  it('two processes share one count, each seeing the other after its next sync', async () => {
    const ns = fresh();
    const a = counters(ns);
    const b = counters(ns);
    for (let i = 0; i < 5; i++) a.incr('tok:x', WINDOW);
    await a.flush(WINDOW); // Redis 5
    expect(b.incr('tok:x', WINDOW).current).toBe(1); // b has not synced yet
    await b.flush(WINDOW); // Redis 6; b learns 6
    expect(b.incr('tok:x', WINDOW).current).toBe(7);
    expect(a.incr('tok:x', WINDOW).current).toBe(6); // a: 5 shared + 1 of its own
    await a.flush(WINDOW); // Redis 7 (b's last one is not sent yet)
    expect(a.incr('tok:x', WINDOW).current).toBe(8);
    await b.flush(WINDOW);
    await a.flush(WINDOW);
    expect(await redis.get(`${ns}tok:x`)).toBe('9');
    // Different keys never mix.
    expect(a.incr('tok:y', WINDOW).current).toBe(1);
  });

  it('never sends a request twice when flushes overlap', async () => {
    const ns = fresh();
    const a = counters(ns);
    for (let i = 0; i < 3; i++) a.incr('ip:2', WINDOW);
    await Promise.all([a.flush(WINDOW), a.flush(WINDOW), a.flush(WINDOW)]);
    a.incr('ip:2', WINDOW);
    await Promise.all([a.flush(WINDOW), a.flush(WINDOW)]);
    expect(await redis.get(`${ns}ip:2`)).toBe('4');
  });

  it('opens a new window when the old one ends', async () => {
    const ns = fresh();
    let now = 1_000_000;
    const a = counters(ns, () => now);
    a.incr('ip:3', 1_000);
    expect(a.incr('ip:3', 1_000)).toEqual({ current: 2, ttl: 1_000 });
    now += 400;
    expect(a.incr('ip:3', 1_000)).toEqual({ current: 3, ttl: 600 });
    now += 700;
    expect(a.incr('ip:3', 1_000)).toEqual({ current: 1, ttl: 1_000 });
  });

  it('keeps limiting on its own counts while Redis is unreachable', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const a = new BatchedRedisCounters(down, fresh(), 60_000);
    for (let i = 1; i <= 4; i++) expect(a.incr('ip:4', WINDOW).current).toBe(i);
    await a.flush(WINDOW); // fails quietly: the counts stay local and go with a later batch
    expect(a.incr('ip:4', WINDOW).current).toBe(5);
    down.disconnect();
  });
});
