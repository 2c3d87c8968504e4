import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { DomainError } from '../../domain/errors.js';
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
    ...(redis ? { redis, nameSpace: 'overture-rl-' } : {}),
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
