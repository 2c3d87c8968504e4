import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { createDb } from '../src/db/client.js';
import { migrationStatus, runMigrations } from '../src/db/migrate.js';
import { buildServer } from '../src/http/app.js';
import { createQueueSystem } from '../src/queue/system.js';
import { withDatabase } from '../src/db/client.js';

const adminUrl = inject('adminUrl');
const name = `ovt_t_${process.ppid}_${randomBytes(6).toString('hex')}`;

afterAll(async () => {
  const c = new pg.Client(adminUrl);
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.end();
});

describe('migrations', () => {
  it('readyz is 503 until migrations are applied, then 200; the audit table refuses edits', async () => {
    const c = new pg.Client(adminUrl);
    await c.connect();
    await c.query(`create database ${name}`);
    await c.end();
    const url = withDatabase(adminUrl, name);
    const handle = createDb(url, { max: 4 });
    const logger = pino({ level: 'silent' });
    const queues = createQueueSystem({ databaseUrl: url, logger, namespace: 'mig' });
    const app = await buildServer({
      config: loadConfig({ DATABASE_URL: url, OVERTURE_SECRET: 's'.repeat(32) }),
      db: handle.db,
      pool: handle.pool,
      secret: 's'.repeat(32),
      clock: { now: () => new Date() },
      queues,
      logger,
    });
    try {
      const before = await app.inject({ url: '/readyz' });
      expect(before.statusCode).toBe(503);
      expect(before.json()).toMatchObject({ status: 'not_ready', migrations: { applied: 0, current: false } });

      await Promise.all([runMigrations(handle.db), runMigrations(handle.db)]);
      expect(await migrationStatus(handle.pool)).toMatchObject({ current: true });
      const after = await app.inject({ url: '/readyz' });
      expect(after.statusCode).toBe(200);

      const { rows } = await handle.pool.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public' order by 1",
      );
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining([
          'programs',
          'staff',
          'api_tokens',
          'profiles',
          'cases',
          'case_events',
          'assignments',
          'touchpoints',
          'follow_ups',
          'safeguarding_concerns',
          'notifications',
          'suppression_list',
          'idempotency_keys',
          'audit_log',
        ]),
      );
      await handle.pool.query(
        "insert into audit_log (id, at, action, target_type, prev_hash, hash) values (gen_random_uuid(), now(), 'test', 'test', 'x', 'y')",
      );
      await expect(handle.pool.query("update audit_log set action = 'edited'")).rejects.toThrow(/append-only/);
      await expect(handle.pool.query('delete from audit_log')).rejects.toThrow(/append-only/);
      await expect(handle.pool.query('truncate audit_log')).rejects.toThrow(/append-only/);
    } finally {
      await app.close();
      await queues.close();
      await handle.close();
    }
  });
});
