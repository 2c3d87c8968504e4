import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';

describe('hardening', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ rateLimit: { perIp: 30, perToken: 10 } });
  });
  afterAll(() => t.close());

  it('sends security headers', async () => {
    const res = await t.app.inject({ url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('limits each token, then each address, with 429 problem+json and Retry-After', async () => {
    const { lead, other } = await cast(t, { lead: 'lead', other: 'lead' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await t.app.inject({ url: '/v1/me', headers: lead.auth })).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    const limited = await t.app.inject({ url: '/v1/me', headers: lead.auth });
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another token from the same address still works until the address limit.
    expect((await t.app.inject({ url: '/v1/me', headers: other.auth })).statusCode).toBe(200);
    // Guessing tokens from one address runs into the address limit.
    let last = 0;
    for (let i = 0; i < 40 && last !== 429; i++) {
      last = (await t.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ovt_${'x'.repeat(40)}${i}` } })).statusCode;
    }
    expect(last).toBe(429);
  });
});

describe('failed authentication is logged without the token', () => {
  it('logs the failure, never the token', async () => {
    const lines: string[] = [];
    const t = await createTestApp();
    const pino = await import('pino');
    const logger = pino.default({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const { buildServer } = await import('../src/http/app.js');
    const { loadConfig } = await import('../src/config/env.js');
    const app = await buildServer({
      config: loadConfig({
        DATABASE_URL: t.db.url,
        OVERTURE_SECRET: 's'.repeat(40),
        OVERTURE_RATE_LIMIT_PER_IP: '0',
        OVERTURE_RATE_LIMIT_PER_TOKEN: '0',
      }),
      db: t.db.db,
      pool: t.db.pool,
      secret: 's'.repeat(40),
      clock: t.clock,
      queues: t.queues,
      logger,
    });
    try {
      const token = `ovt_${'S3cr3t'.repeat(8)}`;
      const res = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(401);
      const log = lines.join('');
      expect(log).toContain('authentication failed');
      expect(log).not.toContain('S3cr3t');
    } finally {
      await app.close();
      await t.close();
    }
  });
});
