import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followUps, touchpoints } from '../../src/db/schema/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  activeCaseVia,
  type RedisServer,
  request,
  type Seeded,
  type Service,
  seedProgram,
  sleep,
  startRedis,
  startService,
  stopService,
  notificationCounts,
  hasRedisServer,
} from './procs.js';

const dueNotifications = (db: TestDatabase, ids: string[]) => notificationCounts(db.db, 'follow_up_due', ids);

describe.runIf(hasRedisServer)('Redis down for 10 s during a stream of writes', () => {
  let redis: RedisServer;
  let db: TestDatabase;
  let svc: Service;
  let s: Seeded;

  beforeAll(async () => {
    redis = await startRedis({ persistent: true });
    db = await createTestDatabase();
    s = await seedProgram(db.db, { followUpAfter: 'PT3S', overdueGrace: 'PT1H' });
    svc = await startService({ DATABASE_URL: db.url, REDIS_URL: redis.url }, 'all');
  }, 90_000);
  afterAll(async () => {
    if (svc) await stopService(svc);
    await redis?.stop();
    await db?.close();
  });

  it('acknowledged writes are all in PostgreSQL, readyz says degraded, and every reminder fires once after', async () => {
    const base = svc.url!;
    const sam = s.interveners[0]!;
    const caseIds: string[] = [];
    for (let i = 0; i < 4; i++) caseIds.push(await activeCaseVia(base, s, sam.id));
    const acknowledged = { touchpoints: [] as string[], followUps: [] as string[] };
    const readiness: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const caseId = caseIds[i % caseIds.length]!;
        const tp = await request(`${base}/v1/cases/${caseId}/touchpoints`, 'POST', sam.token, {
          direction: 'outbound',
          channel: 'direct_message',
          occurredAt: new Date().toISOString(),
        });
        if (tp.status === 201) acknowledged.touchpoints.push(JSON.parse(tp.body).id);
        else failures.push(`touchpoint ${tp.status} ${tp.error ?? tp.body}`);
        const fu = await request(`${base}/v1/cases/${caseId}/follow-ups`, 'POST', sam.token, {
          dueAt: new Date(Date.now() + 2_000).toISOString(),
          kind: 'check_in',
        });
        if (fu.status === 201) acknowledged.followUps.push(JSON.parse(fu.body).id);
        else failures.push(`follow-up ${fu.status} ${fu.error ?? fu.body}`);
        await sleep(100);
      }
    })();
    await sleep(3_000);
    await redis.stop();
    const downUntil = Date.now() + 10_000;
    while (Date.now() < downUntil) {
      const r = await request(`${base}/readyz`, 'GET', null);
      readiness.push(`${r.status} ${JSON.parse(r.body || '{}').queue?.state}`);
      await sleep(1_000);
    }
    await redis.start();
    const recovered = Date.now();
    await sleep(3_000);
    stop = true;
    await writer;

    expect(failures).toEqual([]);
    expect(readiness.length).toBeGreaterThan(5);
    expect(readiness.filter((r) => r === '200 degraded').length).toBeGreaterThanOrEqual(readiness.length - 2);
    const storedTp = await db.db.select({ id: touchpoints.id }).from(touchpoints).where(inArray(touchpoints.id, acknowledged.touchpoints));
    expect(storedTp).toHaveLength(acknowledged.touchpoints.length);
    const allFollowUps = (await db.db.select({ id: followUps.id }).from(followUps).where(eq(followUps.programId, s.programId))).map(
      (f) => f.id,
    );
    expect(allFollowUps).toEqual(expect.arrayContaining(acknowledged.followUps));

    // Every follow-up due by now fires within 60 s of recovery, exactly once.
    let counts = new Map<string, number>();
    while (Date.now() - recovered < 60_000) {
      counts = await dueNotifications(db, allFollowUps);
      if (allFollowUps.every((id) => counts.get(id) === 1)) break;
      await sleep(500);
    }
    expect(Date.now() - recovered).toBeLessThan(60_000);
    expect(allFollowUps.filter((id) => counts.get(id) !== 1)).toEqual([]);
    await sleep(2_500);
    const again = await dueNotifications(db, allFollowUps);
    expect([...again.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});

describe.runIf(hasRedisServer)('Redis restarted empty', () => {
  let redis: RedisServer;
  let db: TestDatabase;
  let svc: Service;

  beforeAll(async () => {
    redis = await startRedis({ persistent: false });
    db = await createTestDatabase();
  }, 60_000);
  afterAll(async () => {
    if (svc) await stopService(svc);
    await redis?.stop();
    await db?.close();
  });

  it('reconcile restores every pending reminder (and the schedulers come back)', async () => {
    const s = await seedProgram(db.db, { followUpAfter: 'PT1H', overdueGrace: 'PT1H' });
    svc = await startService({ DATABASE_URL: db.url, REDIS_URL: redis.url }, 'all');
    const base = svc.url!;
    const sam = s.interveners[0]!;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const caseId = await activeCaseVia(base, s, sam.id);
      for (let k = 0; k < 3; k++) {
        const r = await request(`${base}/v1/cases/${caseId}/follow-ups`, 'POST', sam.token, {
          dueAt: new Date(Date.now() + 4_000).toISOString(),
          kind: 'follow_up',
        });
        expect(r.status).toBe(201);
        ids.push(JSON.parse(r.body).id);
      }
    }
    // Everything Redis held (delayed jobs, schedulers) is lost.
    await redis.stop();
    await redis.start();
    await expect
      .poll(
        async () => {
          const counts = await dueNotifications(db, ids);
          return ids.filter((id) => counts.get(id) === 1).length;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(ids.length);
    const counts = await dueNotifications(db, ids);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});
