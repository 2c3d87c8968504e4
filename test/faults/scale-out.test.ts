import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../../src/domain/staff/service.js';
import { createToken } from '../../src/domain/staff/tokens.js';
import { SCHEDULES } from '../../src/queue/jobs.js';
import { createQueueSystem } from '../../src/queue/system.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  activeCaseVia,
  quietLogger,
  type RedisServer,
  request,
  SECRET,
  type Service,
  seedProgram,
  sleep,
  startRedis,
  startService,
  stopService,
  hasRedisServer,
  notificationCounts,
} from './procs.js';

describe.runIf(hasRedisServer)('scale-out: two API and two worker processes on one database and one Redis', () => {
  let redis: RedisServer;
  let db: TestDatabase;
  const services: Service[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    db = await createTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(services.map((s) => stopService(s)));
    await redis?.stop();
    await db?.close();
  });

  it('one notification per event, a verifying audit chain, and each scheduler once', async () => {
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url };
    const started = await Promise.all([
      startService(env, 'api'),
      startService(env, 'api'),
      startService(env, 'worker'),
      startService(env, 'worker'),
    ]);
    services.push(...started);
    const apis = [started[0]!.url!, started[1]!.url!];
    const s = await seedProgram(db.db, { followUpAfter: 'PT2S', overdueGrace: 'PT2S', responseSla: 'PT2S' }, 3);
    const admin = await createStaff(db.db, { role: 'admin', name: 'admin' });
    const adminToken = (await createToken(db.db, SECRET, admin.id, 'scale-out')).token;

    // A mixed load, spread over both APIs: flag and assign, messages both ways, reads, follow-ups.
    const caseIds: string[] = [];
    for (let i = 0; i < 6; i++) caseIds.push(await activeCaseVia(apis[i % 2]!, s, s.interveners[i % 3]!.id));
    const writes = caseIds.flatMap((caseId, i) => {
      const who = s.interveners[i % 3]!;
      return [0, 1, 2, 3].map(async (k) => {
        const base = apis[(i + k) % 2]!;
        const r = await request(`${base}/v1/cases/${caseId}/touchpoints`, 'POST', who.token, {
          direction: k % 2 ? 'inbound' : 'outbound',
          channel: 'direct_message',
          occurredAt: new Date(Date.now() - (4 - k) * 1000).toISOString(),
        });
        if (r.status !== 201) throw new Error(`touchpoint → ${r.status} ${r.body}`);
        const read = await request(`${apis[(i + k + 1) % 2]}/v1/cases/${caseId}`, 'GET', who.token);
        if (read.status !== 200) throw new Error(`read → ${read.status}`);
      });
    });
    await Promise.all(writes);

    // Every follow-up becomes due then overdue; inbound messages get the response-SLA reminder.
    const ids = (await db.pool.query<{ id: string }>('select id from follow_ups where program_id = $1', [s.programId])).rows.map(
      (r) => r.id,
    );
    expect(ids.length).toBe(caseIds.length);
    const count = (kind: 'follow_up_due' | 'follow_up_overdue') => notificationCounts(db.db, kind, ids);
    await expect.poll(async () => (await count('follow_up_overdue')).size, { timeout: 60_000, interval: 500 }).toBe(ids.length);
    await sleep(3_000);
    const due = await count('follow_up_due');
    const overdue = await count('follow_up_overdue');
    expect(ids.map((id) => due.get(id))).toEqual(ids.map(() => 1));
    expect(ids.map((id) => overdue.get(id))).toEqual(ids.map(() => 1));
    const assigned = await db.pool.query<{ n: number }>(
      "select count(*)::int as n from notifications where kind = 'case_assigned' and program_id = $1 group by subject_id",
      [s.programId],
    );
    expect(assigned.rows.map((r) => r.n)).toEqual(caseIds.map(() => 1));
    const dupes = await db.pool.query('select dedupe_key from notifications group by dedupe_key having count(*) > 1');
    expect(dupes.rows).toEqual([]);

    const verify = await request(`${apis[0]}/v1/audit/verify`, 'GET', adminToken);
    expect(JSON.parse(verify.body)).toMatchObject({ ok: true, firstBrokenId: null });

    const queues = createQueueSystem({ redisUrl: redis.url, databaseUrl: db.url, logger: quietLogger });
    try {
      const schedulers = await queues.queue('maintenance').getJobSchedulers();
      expect(schedulers.map((x) => x.key).sort()).toEqual(SCHEDULES.map((x) => x.name).sort());
    } finally {
      await queues.close();
    }
  }, 180_000);
});
