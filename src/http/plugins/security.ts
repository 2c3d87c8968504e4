import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { DomainError } from '../../domain/errors.js';
import { redisPrefix } from '../../queue/system.js';
import type { AppDeps } from '../deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-address limiter, called by the auth hook first of all (so guessing tokens is limited too). */
    perIpLimit?: (request: FastifyRequest) => Promise<void>;
    /** Per-token limiter, called by the auth hook once it knows the token; undefined when off. */
    perTokenLimit?: (request: FastifyRequest) => Promise<void>;
  }
}

const WINDOW = 60_000;

// Adds a batch to one window per key: the count, and the window's end set when it opens (or if it was ever lost).
const INCRBY_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if current == tonumber(ARGV[2]) or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

type RateLimitRedis = Redis & { overtureRateLimit(key: string, windowMs: number, by: number): Promise<[number, number]> };

/** How long a process counts on its own before adding its counts to the shared ones in Redis. */
export const RATE_LIMIT_SYNC_MS = 20;

interface Window {
  /** The shared count Redis last reported (every process's requests up to then). */
  shared: number;
  /** This process's requests not yet added in Redis (including a batch on its way). */
  local: number;
  /** Of `local`, the batch on its way to Redis. */
  sending: number;
  resetAt: number;
}

/**
 * Fixed-window counters under `{prefix}:rl:`, beside the deployment's queues, shared by every API
 * process through Redis without a Redis round trip per request: each process answers from the
 * shared count Redis last reported plus its own requests since, and adds its own requests to the
 * shared counter in one pipelined batch every RATE_LIMIT_SYNC_MS. A process therefore sees other
 * processes' requests up to RATE_LIMIT_SYNC_MS (plus one round trip) late: across N processes a
 * limit can be overrun by at most what the other N−1 let through in that time, and never within
 * one process. While Redis is down each process still limits on its own counts.
 * (The plugin's own Redis store puts the route's method and URL after its nameSpace, which
 * createRateLimit leaves undefined; our limiters are per address and per token, never per route.)
 */
export class BatchedRedisCounters {
  private readonly windows = new Map<string, Window>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly conn: RateLimitRedis;

  constructor(
    redis: Redis,
    private readonly namespace: string,
    private readonly syncMs = RATE_LIMIT_SYNC_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.conn = redis as RateLimitRedis;
    if (!('overtureRateLimit' in redis)) this.conn.defineCommand('overtureRateLimit', { numberOfKeys: 1, lua: INCRBY_LUA });
  }

  incr(key: string, timeWindow: number): { current: number; ttl: number } {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now >= w.resetAt) {
      // A new window here; a batch still on its way belongs to the old one.
      w = { shared: 0, local: 0, sending: 0, resetAt: now + timeWindow };
      this.windows.set(key, w);
    }
    w.local += 1;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush(timeWindow);
      }, this.syncMs);
      this.timer.unref();
    }
    return { current: w.shared + w.local, ttl: w.resetAt - now };
  }

  /** Adds this process's counts to Redis (one pipeline) and takes back the shared counts. */
  async flush(timeWindow: number): Promise<void> {
    if (this.flushing) await this.flushing;
    const now = this.now();
    const batch: [string, Window, number][] = [];
    for (const [key, w] of this.windows) {
      if (now >= w.resetAt && w.local === 0) this.windows.delete(key);
      else if (w.local > w.sending) {
        const n = w.local - w.sending;
        w.sending += n;
        batch.push([key, w, n]);
      }
    }
    if (batch.length === 0) return;
    const pipeline = this.conn.pipeline();
    for (const [key, , n] of batch) (pipeline as unknown as RateLimitRedis).overtureRateLimit(this.namespace + key, timeWindow, n);
    this.flushing = pipeline.exec().then(
      (results) => {
        const at = this.now();
        batch.forEach(([key, w, n], i) => {
          w.sending -= n;
          const [err, value] = results?.[i] ?? [new Error('no reply'), null];
          if (this.windows.get(key) !== w) return; // the window closed meanwhile
          if (err || !Array.isArray(value)) return; // not added: counted locally, sent with the next batch
          // Redis' count now holds this batch and every other process's batches so far.
          const [current, ttl] = value as [number, number];
          w.local -= n;
          w.shared = Number(current);
          w.resetAt = at + Number(ttl);
        });
      },
      () => {
        for (const [, w, n] of batch) w.sending -= n;
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Sends what is left (on close). */
  async close(timeWindow: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush(timeWindow).catch(() => {});
  }
}

function batchedRedisStore(counters: BatchedRedisCounters): FastifyRateLimitStoreCtor {
  return class BatchedRedisStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      callback(null, counters.incr(key, timeWindow));
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/** Security headers and rate limits: per IP before authentication, per token after it. */
export default fp(async function security(app: FastifyInstance, deps: AppDeps) {
  // HTML pages (docs, queue board, report page) set their own CSP; JSON needs none.
  await app.register(helmet, { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false });

  const { perIp, perToken } = deps.config.rateLimit;
  if (perIp === 0 && perToken === 0) return;
  let counters: BatchedRedisCounters | undefined;
  if (deps.config.redisUrl) {
    const redis = new Redis(deps.config.redisUrl, { connectTimeout: 500, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', () => {});
    counters = new BatchedRedisCounters(redis, `${redisPrefix(deps.config.queuePrefix)}:rl:`);
    app.addHook('onClose', async () => {
      await counters?.close(WINDOW);
      redis.disconnect();
    });
  }
  await app.register(rateLimit, {
    global: false,
    timeWindow: WINDOW,
    // A Redis outage must not take the API down with it.
    skipOnError: true,
    ...(counters ? { store: batchedRedisStore(counters) } : {}),
  });
  const limiter = (name: string, max: number, key: (request: FastifyRequest) => string, what: string) => {
    if (max <= 0) return;
    const check = app.createRateLimit({ max, timeWindow: WINDOW, keyGenerator: key });
    app.decorate(name, async (request: FastifyRequest) => {
      const limit = await check(request);
      if (!limit.isAllowed && limit.isExceeded) {
        const retryAfter = Math.max(1, Math.ceil(limit.ttl / 1000));
        throw new DomainError(429, 'rate_limited', `Too many requests ${what}; retry in ${retryAfter} s.`, { retryAfter });
      }
    });
  };
  limiter('perIpLimit', perIp, (request) => `ip:${request.ip}`, 'from this address');
  limiter(
    'perTokenLimit',
    perToken,
    (request) => `tok:${createHash('sha256').update(request.principal.tokenId).digest('hex').slice(0, 32)}`,
    'with this token',
  );
});
