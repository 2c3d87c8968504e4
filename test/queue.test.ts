import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobRuns } from '../src/db/schema/index.js';
import { JOBS, SCHEDULES } from '../src/queue/jobs.js';
import { createQueueSystem, type QueueSystem } from '../src/queue/system.js';
import { assertEveryJobHandled, processors, startWorkers } from '../workers/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const backends = [
  { name: 'postgres', redisUrl: undefined as string | undefined },
  ...(process.env['REDIS_URL'] ? [{ name: 'redis', redisUrl: process.env['REDIS_URL'] }] : []),
];

describe('job map', () => {
  it('has one processor per job', () => {
    expect(() => assertEveryJobHandled(processors)).not.toThrow();
    expect(() => assertEveryJobHandled({ ...processors, maintenance: {} })).toThrow(/no processor/);
    expect(() => assertEveryJobHandled({ ...processors, maintenance: { ...processors.maintenance, ghost: async () => {} } })).toThrow(
      /handles no known job/,
    );
  });

  it('refuses payloads that do not match the schema', () => {
    expect(() => JOBS.maintenance.heartbeat.parse({ handle: '@someone' })).toThrow();
  });
});

describe.each(backends)('queues on $name', ({ redisUrl }) => {
  let db: TestDatabase;
  let queues: QueueSystem;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase();
    queues = createQueueSystem({ redisUrl, databaseUrl: db.url, namespace: `t${randomBytes(4).toString('hex')}`, logger });
  });
  afterAll(async () => {
    await queues.close();
    await db.close();
  });

  it('a worker runs the heartbeat job', async () => {
    const running = await startWorkers(
      { db: db.db, queues, clock: { now: () => new Date() }, logger, secret: 'x'.repeat(32) },
      { schedules: false },
    );
    try {
      await queues.enqueue('maintenance', 'heartbeat', {});
      await expect
        .poll(async () => (await db.db.select().from(jobRuns).where(eq(jobRuns.name, 'heartbeat')))[0]?.runs ?? 0, { timeout: 15_000 })
        .toBeGreaterThan(0);
      expect(await queues.health()).toBe('ok');
    } finally {
      await running.close(5_000);
    }
  });

  it('upserts the schedulers once however often workers start', async () => {
    const deps = { db: db.db, queues, clock: { now: () => new Date() }, logger, secret: 'x'.repeat(32) };
    const a = await startWorkers(deps);
    const b = await startWorkers(deps);
    try {
      const schedulers = await queues.queue('maintenance').getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(SCHEDULES.map((s) => s.name).sort());
      expect(SCHEDULES.map((s) => s.name).sort()).toEqual([
        'heartbeat',
        'no-contact-scan',
        'reconcile',
        'retention',
        'rollup',
        'supervision-scan',
      ]);
    } finally {
      await a.close(5_000);
      await b.close(5_000);
    }
  });
});
