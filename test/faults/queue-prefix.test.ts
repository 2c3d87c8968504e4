import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../../src/domain/staff/service.js';
import { createToken } from '../../src/domain/staff/tokens.js';
import { QUEUE_NAMES } from '../../src/queue/jobs.js';
import { databaseIdentity, ownerKey } from '../../src/queue/ownership.js';
import { createQueueSystem } from '../../src/queue/system.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  deleteRedisPrefix,
  hasRedisServer,
  quietLogger,
  refusedStart,
  SECRET,
  type Service,
  startService,
  stopService,
  testRedis,
} from './procs.js';

/** Real `overture start` processes on one Redis (CI's REDIS_URL), each test on prefixes of its own. */
// Several real processes start and stop per test: on a slow 2-core host under the suite's load that
// took longer than the default 30 s.
describe.runIf(process.env['REDIS_URL'] || hasRedisServer)(
  'OVERTURE_QUEUE_PREFIX and OVERTURE_TRUST_PROXY with real processes on one Redis',
  { timeout: 90_000 },
  () => {
    let server: { url: string; stop(): Promise<void> };
    let redis: Redis;
    let one: TestDatabase;
    let two: TestDatabase;
    const services: Service[] = [];
    const prefixes: string[] = [];
    const fresh = () => {
      const p = `t${randomBytes(5).toString('hex')}`;
      prefixes.push(p);
      return p;
    };
    const up = async (db: TestDatabase, prefix: string, role: 'all' | 'api', extra: Record<string, string> = {}) => {
      const s = await startService(
        { DATABASE_URL: db.url, REDIS_URL: server.url, OVERTURE_QUEUE_PREFIX: prefix, OVERTURE_TRUST_PROXY: '', ...extra },
        role,
      );
      services.push(s);
      return s;
    };

    beforeAll(async () => {
      server = (await testRedis())!;
      redis = new Redis(server.url);
      [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    }, 60_000);
    afterEach(async () => {
      await Promise.all(services.splice(0).map((s) => stopService(s)));
      for (const p of prefixes.splice(0)) await deleteRedisPrefix(redis, p);
    });
    afterAll(async () => {
      redis?.disconnect();
      await one?.close();
      await two?.close();
      await server?.stop();
    });

    it('a deployment on another database with the same prefix stops at start (exit 1, one line) and takes no job; the owner restarts fine', async () => {
      const prefix = fresh();
      const first = await up(one, prefix, 'all');
      expect(await redis.get(ownerKey(prefix))).toBe(await databaseIdentity(one.pool));
      expect(await stopService(first)).toBe(0);

      // A job waiting on the prefix while no process serves it.
      const queues = createQueueSystem({ redisUrl: server.url, databaseUrl: one.url, namespace: prefix, logger: quietLogger });
      try {
        await queues.enqueue('maintenance', 'heartbeat', {}, { jobId: 'guard-probe' });
        const probe = async () => (await queues.queue('maintenance').getJob('guard-probe'))?.getState();
        expect(await probe()).toBe('waiting');

        const refused = await refusedStart({ DATABASE_URL: two.url, REDIS_URL: server.url, OVERTURE_QUEUE_PREFIX: prefix }, 'all');
        expect(refused.code).toBe(1);
        const lines = refused.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^overture: OVERTURE_QUEUE_PREFIX "${prefix}" on this Redis belongs to another database`));
        expect(refused.stdout).not.toMatch(/Overture is up|workers are running/);
        // Took nothing: the job still waits, no worker is registered, the other database ran no job, the owner is unchanged.
        expect(await probe()).toBe('waiting');
        for (const name of QUEUE_NAMES) expect(await queues.queue(name).getWorkers()).toEqual([]);
        expect((await two.pool.query('select 1 from job_runs')).rowCount).toBe(0);
        expect(await redis.get(ownerKey(prefix))).toBe(await databaseIdentity(one.pool));

        // The owner, restarted on its own database and prefix, starts and runs the job.
        await up(one, prefix, 'all');
        await expect.poll(probe, { timeout: 30_000, interval: 200 }).toBe('completed');
      } finally {
        await queues.close();
      }
    });

    it('with different prefixes, two deployments on two databases both run', async () => {
      const [p1, p2] = [fresh(), fresh()];
      const [a, b] = await Promise.all([up(one, p1, 'all'), up(two, p2, 'all')]);
      for (const s of [a, b]) expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      expect(await redis.get(ownerKey(p1))).toBe(await databaseIdentity(one.pool));
      expect(await redis.get(ownerKey(p2))).toBe(await databaseIdentity(two.pool));
      const workersOf = async (prefix: string) => {
        const q = createQueueSystem({ redisUrl: server.url, databaseUrl: one.url, namespace: prefix, logger: quietLogger });
        try {
          return (await q.queue('reminders').getWorkers()).length;
        } finally {
          await q.close();
        }
      };
      expect(await workersOf(p1)).toBe(1);
      expect(await workersOf(p2)).toBe(1);
    });

    describe('behind a proxy (OVERTURE_TRUST_PROXY)', () => {
      const PER_IP = 4;
      let adminToken: string;
      beforeAll(async () => {
        const admin = await createStaff(one.db, { role: 'admin', name: 'proxy admin' });
        adminToken = (await createToken(one.db, SECRET, admin.id, 'proxy test')).token;
      });
      const from = async (base: string, ip: string) => (await fetch(`${base}/v1/me`, { headers: { 'x-forwarded-for': ip } })).status;
      const signIn = async (base: string) => {
        const res = await fetch(`${base}/admin/queues/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
          body: JSON.stringify({ token: adminToken }),
        });
        expect(res.status).toBe(204);
        const cookies = res.headers.getSetCookie();
        expect(cookies).toHaveLength(1);
        return cookies[0]!;
      };
      const limitKeys = async (prefix: string) =>
        (await redis.keys(`{${prefix}}:rl:ip:*`)).map((k) => k.slice(`{${prefix}}:rl:ip:`.length)).sort();

      it('unset: every client shares the proxy address bucket, and the board cookie is not Secure', async () => {
        const prefix = fresh();
        const s = await up(one, prefix, 'api', { OVERTURE_RATE_LIMIT_PER_IP: String(PER_IP) });
        expect(await signIn(s.url!)).not.toMatch(/;\s*Secure/i);
        const statuses = [];
        for (let i = 1; i <= PER_IP; i++) statuses.push(await from(s.url!, `203.0.113.${i}`));
        // The sign-in spent one request of 127.0.0.1's bucket: the fourth client is refused.
        expect(statuses).toEqual([401, 401, 401, 429]);
        expect(await limitKeys(prefix)).toEqual(['127.0.0.1']);
      });

      it('set to 127.0.0.1: each forwarded client has its own bucket, and the board cookie is Secure over forwarded https', async () => {
        const prefix = fresh();
        const s = await up(one, prefix, 'api', { OVERTURE_RATE_LIMIT_PER_IP: String(PER_IP), OVERTURE_TRUST_PROXY: '127.0.0.1' });
        expect(await signIn(s.url!)).toMatch(/;\s*Secure/i);
        const statuses = [];
        for (let i = 1; i <= PER_IP; i++) statuses.push(await from(s.url!, `203.0.113.${i}`));
        expect(statuses).toEqual([401, 401, 401, 401]);
        // Still limited, per client.
        const again = [];
        for (let i = 1; i <= PER_IP; i++) again.push(await from(s.url!, '203.0.113.1'));
        expect(again).toEqual([401, 401, 401, 429]);
        // Each process adds its counts to Redis every RATE_LIMIT_SYNC_MS: the last batch may still be on its way.
        await expect
          .poll(() => limitKeys(prefix), { timeout: 2_000, interval: 25 })
          .toEqual(['127.0.0.1', '203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']);
      });
    });
  },
);
