import { and, eq } from 'drizzle-orm';
import { notifications } from '../../src/db/schema/index.js';
import type { Fetch } from '../../src/domain/notifications/webhook.js';
import { type RunningWorkers, startWorkers } from '../../workers/index.js';
import { TEST_SECRET, type TestApp } from './app.js';

export const backends = [
  { backend: 'postgres', redisUrl: undefined as string | undefined },
  ...(process.env['REDIS_URL'] ? [{ backend: 'redis', redisUrl: process.env['REDIS_URL'] }] : []),
];

/** Workers on the test app's own queues and database (schedulers off: tests trigger jobs). */
export function workersFor(t: TestApp, opts: { fetch?: Fetch; queues?: TestApp['queues'] } = {}): Promise<RunningWorkers> {
  return startWorkers(
    {
      db: t.db.db,
      queues: opts.queues ?? t.queues,
      clock: t.clock,
      logger: t.logger,
      secret: TEST_SECRET,
      webhookAllowPrivate: t.webhookAllowPrivate,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    },
    { schedules: false },
  );
}

export async function inbox(t: TestApp, staffId: string, kind?: string) {
  return t.db.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.staffId, staffId), kind ? eq(notifications.kind, kind as never) : undefined))
    .orderBy(notifications.id);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
