import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/client.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { cases } from '../../src/db/schema/index.js';
import {
  type Answer,
  freePort,
  type RedisServer,
  request,
  seedProgram,
  type Seeded,
  type Service,
  sleep,
  startRedis,
  startService,
  stopService,
  hasRedisServer,
} from './procs.js';

describe.runIf(hasRedisServer)('PostgreSQL restart under a steady write load', () => {
  let dir: string;
  let pg: EmbeddedServer;
  let port: number;
  let handle: DbHandle;
  let redis: RedisServer;
  let svc: Service;
  let s: Seeded;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'overture-pgfault-'));
    await chmod(dir, 0o755);
    port = await freePort();
    pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port, settings: { fsync: 'off' } });
    handle = createDb(pg.url, { max: 2 });
    await runMigrations(handle.db);
    s = await seedProgram(handle.db, {});
    redis = await startRedis();
    svc = await startService({ DATABASE_URL: pg.url, REDIS_URL: redis.url }, 'all');
  }, 90_000);
  afterAll(async () => {
    if (svc) await stopService(svc);
    await handle?.close().catch(() => {});
    await pg?.stop();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 problem+json while it is down (never a hang or a stack trace), recovers, and loses nothing acknowledged', async () => {
    const base = svc.url!;
    const answers: (Answer & { phase: string })[] = [];
    let phase = 'before';
    let stop = false;
    const client = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const r = await request(
          `${base}/v1/cases`,
          'POST',
          s.lead.token,
          {
            programId: s.programId,
            profile: { platform: 'x', handle: `pg${n}_${i}_${(Date.now() % 1e6).toString(36)}` },
            ideology: 'other',
            riskLevel: 'low',
            indicators: [],
          },
          5_000,
        );
        answers.push({ ...r, phase });
        await sleep(50);
      }
    };
    const clients = [client(1), client(2), client(3)];
    await sleep(2_500);
    phase = 'down';
    await pg.stop();
    await sleep(5_000);
    pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port });
    phase = 'after';
    await sleep(5_000);
    stop = true;
    await Promise.all(clients);

    const bad = answers.filter((a) => ![201, 503].includes(a.status));
    if (bad.length > 0)
      console.log(
        svc
          .output()
          .split('\n')
          .filter((l) => /"level":(40|50|60)|Error|error/.test(l))
          .slice(0, 15)
          .join('\n'),
      );
    expect(bad.map((a) => `${a.phase} ${a.status} ${a.error ?? ''} ${a.body.slice(0, 100)}`)).toEqual([]);
    expect(answers.every((a) => a.ms < 5_500)).toBe(true);
    const unavailable = answers.filter((a) => a.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const a of unavailable) {
      const body = JSON.parse(a.body);
      expect(body).toMatchObject({ status: 503, code: 'service.unavailable' });
      expect(a.body).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }
    // The pool recovered by itself: writes succeed again after the restart.
    const lastSecond = answers.filter((a) => a.phase === 'after').slice(-10);
    expect(lastSecond.length).toBeGreaterThan(0);
    expect(lastSecond.every((a) => a.status === 201)).toBe(true);

    const acknowledged = answers.filter((a) => a.status === 201).map((a) => JSON.parse(a.body).id as string);
    const check = createDb(pg.url, { max: 2 });
    try {
      const stored = await check.db.select({ id: cases.id }).from(cases).where(inArray(cases.id, acknowledged));
      expect(stored).toHaveLength(acknowledged.length);
    } finally {
      await check.close();
    }
  }, 120_000);
});
