import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    // The package root's .overture, not the working directory's: a command run from a subfolder finds the same data.
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve(import.meta.dirname, '..', '.overture'),
      role: 'all',
      logLevel: 'info',
    });
    expect(c).toMatchObject({ reconcileEveryMs: 60_000, rateLimit: { perIp: 1200, perToken: 600 } });
    expect(loadConfig({ OVERTURE_RECONCILE_INTERVAL: 'PT5S', OVERTURE_RATE_LIMIT_PER_TOKEN: '0' })).toMatchObject({
      reconcileEveryMs: 5_000,
      rateLimit: { perToken: 0 },
    });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x/y', OVERTURE_SECRET: 'x'.repeat(32) }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://h/db' }, 'OVERTURE_SECRET'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
    [{ OVERTURE_ROLE: 'both' }, 'OVERTURE_ROLE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ OVERTURE_SECRET: 'short' }, 'OVERTURE_SECRET'],
    [{ OVERTURE_BOOTSTRAP_ADMIN_TOKEN: 'ovt_tooshort' }, 'OVERTURE_BOOTSTRAP_ADMIN_TOKEN'],
    [{ OVERTURE_RECONCILE_INTERVAL: 'PT0.5S' }, 'OVERTURE_RECONCILE_INTERVAL'],
    [{ OVERTURE_RECONCILE_INTERVAL: 'every minute' }, 'OVERTURE_RECONCILE_INTERVAL'],
    [{ OVERTURE_RATE_LIMIT_PER_IP: '-1' }, 'OVERTURE_RATE_LIMIT_PER_IP'],
    [{ OVERTURE_WEBHOOK_ALLOW_PRIVATE: 'yes' }, 'OVERTURE_WEBHOOK_ALLOW_PRIVATE'],
    [{ OVERTURE_WEBHOOK_ALLOW_PRIVATE: '1' }, 'OVERTURE_WEBHOOK_ALLOW_PRIVATE'],
    [{ OVERTURE_QUEUE_PREFIX: 'stag:ing' }, 'OVERTURE_QUEUE_PREFIX'],
    [{ OVERTURE_QUEUE_PREFIX: '{overture}' }, 'OVERTURE_QUEUE_PREFIX'],
    [{ OVERTURE_QUEUE_PREFIX: 'a b' }, 'OVERTURE_QUEUE_PREFIX'],
    [{ OVERTURE_QUEUE_PREFIX: 'x'.repeat(41) }, 'OVERTURE_QUEUE_PREFIX'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it('allows private webhook targets by default only for the embedded database', () => {
    const production = { DATABASE_URL: 'postgres://h/db', OVERTURE_SECRET: 'x'.repeat(32) };
    expect(loadConfig({}).webhookAllowPrivate).toBe(true);
    expect(loadConfig(production).webhookAllowPrivate).toBe(false);
    expect(loadConfig({ ...production, OVERTURE_WEBHOOK_ALLOW_PRIVATE: 'true' }).webhookAllowPrivate).toBe(true);
    expect(loadConfig({ ...production, OVERTURE_WEBHOOK_ALLOW_PRIVATE: '' }).webhookAllowPrivate).toBe(false);
    expect(loadConfig({ OVERTURE_WEBHOOK_ALLOW_PRIVATE: 'false' }).webhookAllowPrivate).toBe(false);
  });

  it('takes a queue prefix of letters, digits, - and _ (default overture; blank is the default)', () => {
    expect(loadConfig({}).queuePrefix).toBe('overture');
    expect(loadConfig({ OVERTURE_QUEUE_PREFIX: '' }).queuePrefix).toBe('overture');
    expect(loadConfig({ OVERTURE_QUEUE_PREFIX: 'Staging-2_eu' }).queuePrefix).toBe('Staging-2_eu');
    expect(loadConfig({ OVERTURE_QUEUE_PREFIX: 'x'.repeat(40) }).queuePrefix).toBe('x'.repeat(40));
  });

  it('never echoes a secret value in the message', () => {
    try {
      loadConfig({ OVERTURE_SECRET: 'hunter2-secret' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('accepts a production configuration', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/overture',
      REDIS_URL: 'redis://redis:6379',
      OVERTURE_SECRET: 'a'.repeat(64),
      OVERTURE_ROLE: 'api',
      PORT: '8080',
    });
    expect(c).toMatchObject({ port: 8080, role: 'api', redisUrl: 'redis://redis:6379' });
  });

  it('the CLI prints one readable line and exits 1 on bad config', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
      env: { ...process.env, PORT: 'not-a-port', DATABASE_URL: '', TEST_DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('PORT');
  });

  it('the CLI names OVERTURE_QUEUE_PREFIX in one line and exits 1 when it is malformed', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
      env: { ...process.env, OVERTURE_QUEUE_PREFIX: 'prod:eu', DATABASE_URL: '', TEST_DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('OVERTURE_QUEUE_PREFIX');
    expect(res.stderr).not.toContain('prod:eu');
  });
});
