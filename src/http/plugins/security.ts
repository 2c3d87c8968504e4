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

// One window per key: the count, and the window's end set when it opens (or if it was ever lost).
const INCR_LUA = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

type RateLimitRedis = Redis & { overtureRateLimit(key: string, windowMs: number): Promise<[number, number]> };

/**
 * Counters under `{prefix}:rl:`, beside the deployment's queues. The plugin's own Redis store puts
 * the route's method and URL after its nameSpace, which createRateLimit leaves undefined (keys read
 * `…undefinedundefined-ip:…`); our limiters are per address and per token, never per route.
 */
function prefixedRedisStore(redis: Redis, namespace: string): FastifyRateLimitStoreCtor {
  const conn = redis as RateLimitRedis;
  conn.defineCommand('overtureRateLimit', { numberOfKeys: 1, lua: INCR_LUA });
  return class PrefixedRedisStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      conn.overtureRateLimit(namespace + key, timeWindow).then(
        ([current, ttl]) => callback(null, { current, ttl }),
        (err: Error) => callback(err),
      );
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
  let redis: Redis | undefined;
  if (deps.config.redisUrl) {
    redis = new Redis(deps.config.redisUrl, { connectTimeout: 500, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', () => {});
    app.addHook('onClose', async () => {
      redis?.disconnect();
    });
  }
  await app.register(rateLimit, {
    global: false,
    timeWindow: WINDOW,
    // A Redis outage must not take the API down with it.
    skipOnError: true,
    ...(redis ? { store: prefixedRedisStore(redis, `${redisPrefix(deps.config.queuePrefix)}:rl:`) } : {}),
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
