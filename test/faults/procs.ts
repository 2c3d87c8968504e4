import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { notifications } from '../../src/db/schema/index.js';
import { createProgram } from '../../src/domain/programs/service.js';
import type { ProgramSettings } from '../../src/domain/programs/settings.js';
import type { Role } from '../../src/domain/staff/principal.js';
import { createStaff } from '../../src/domain/staff/service.js';
import { createToken } from '../../src/domain/staff/tokens.js';
import { freePort } from '../../src/db/embedded.js';

export { freePort };

/** These tests start redis-server themselves; on a machine without it (npm test on a fresh laptop) they are skipped. CI installs it. */
export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** CI's REDIS_URL (shared: use a fresh prefix and delete it after), or a redis-server of the test's own. */
export async function testRedis(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  if (process.env['REDIS_URL']) return { url: process.env['REDIS_URL'], stop: async () => {} };
  if (!hasRedisServer) return undefined;
  const own = await startRedis();
  return { url: own.url, stop: () => own.stop() };
}

/** Deletes every key of a queue prefix (`{prefix}…`). */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export const SECRET = 'fault-test-secret-0123456789abcdef0123456789';
export const quietLogger = pino({ level: 'silent' });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Service {
  child: ChildProcess;
  url: string | undefined;
  output(): string;
  exited: Promise<number | null>;
}

/** The real CLI (`overture start`) as a separate process. */
export function startService(env: Record<string, string>, role: 'all' | 'api' | 'worker'): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    env: {
      ...process.env,
      PORT: '0',
      OVERTURE_SECRET: SECRET,
      OVERTURE_ROLE: role,
      LOG_LEVEL: 'info',
      OVERTURE_RATE_LIMIT_PER_IP: '0',
      OVERTURE_RATE_LIMIT_PER_TOKEN: '0',
      OVERTURE_RECONCILE_INTERVAL: 'PT2S',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within 60 s:\n${output.slice(-3000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const up = /Overture is up: (http:\/\/[^\s"]+)/.exec(output);
      if (up || (role === 'worker' && output.includes('Overture workers are running'))) {
        clearTimeout(timer);
        resolve({ child, url: up?.[1], output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited ${code} before it was up:\n${output.slice(-3000)}`));
    });
  });
}

/** `overture start` expected to refuse: waits for its exit (killing it if it came up instead). */
export function refusedStart(
  env: Record<string, string>,
  role: 'all' | 'api' | 'worker',
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    env: { ...process.env, PORT: '0', OVERTURE_SECRET: SECRET, OVERTURE_ROLE: role, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (/Overture is up|Overture workers are running/.test(stdout)) child.kill('SIGKILL');
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

export async function stopService(s: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  s.child.kill(signal);
  return s.exited;
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A Redis of the test's own, on its own port (optionally with AOF, so a restart keeps its data). */
export async function startRedis(opts: { persistent?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'overture-redis-'));
  let child: ChildProcess | undefined;
  const up = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        dir,
        '--appendonly',
        opts.persistent ? 'yes' : 'no',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('redis-server did not start');
  };
  await up();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      const c = child!;
      if (c.exitCode !== null) return;
      const exited = new Promise((r) => c.on('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
    start: up,
  };
}

export interface Seeded {
  programId: string;
  lead: { id: string; token: string };
  interveners: { id: string; token: string }[];
}

/** A program, a lead and interveners with tokens, written straight to the database. */
export async function seedProgram(db: Db, settings: Partial<ProgramSettings>, interveners = 1): Promise<Seeded> {
  const p = await createProgram(db, { name: `Fault ${randomBytes(3).toString('hex')}`, settings });
  const person = async (role: Role) => {
    const s = await createStaff(db, { role, programId: p.id, name: role, maxCaseload: 500 });
    const { token } = await createToken(db, SECRET, s.id, 'fault test');
    return { id: s.id, token };
  };
  return {
    programId: p.id,
    lead: await person('lead'),
    interveners: await Promise.all(Array.from({ length: interveners }, () => person('intervener'))),
  };
}

export interface Answer {
  status: number;
  body: string;
  ms: number;
  error?: string;
}

/** One HTTP request on a fresh connection (no keep-alive races), with a client-side timeout. */
export function request(url: string, method: string, token: string | null, body?: unknown, timeoutMs = 10_000): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, ms: Date.now() - started }));
        res.on('error', (err) => resolve({ status: 0, body: '', ms: Date.now() - started, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err) =>
      resolve({ status: 0, body: '', ms: Date.now() - started, error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    if (payload) req.write(payload);
    req.end();
  });
}

/** Flag → triage → approve → assign through the API; returns the case id. */
export async function activeCaseVia(base: string, s: Seeded, intervenerId: string): Promise<string> {
  const lead = s.lead.token;
  const must = async (method: string, path: string, body: unknown) => {
    const r = await request(`${base}${path}`, method, lead, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.body}`);
    return JSON.parse(r.body) as { id: string };
  };
  const c = await must('POST', '/v1/cases', {
    programId: s.programId,
    profile: { platform: 'x', handle: `f_${randomBytes(6).toString('hex')}` },
    ideology: 'far_right',
    riskLevel: 'low',
    indicators: [],
    flaggedAt: new Date(Date.now() - 3_600_000).toISOString(),
  });
  await must('POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'r' });
  await must('POST', `/v1/cases/${c.id}/approve`, {});
  await must('POST', `/v1/cases/${c.id}/assignment`, { intervenerId });
  return c.id;
}

/** How many notifications of a kind each subject (follow-up id) got, counted in PostgreSQL. */
export async function notificationCounts(db: Db, kind: 'follow_up_due' | 'follow_up_overdue', ids: string[]) {
  const rows = await db
    .select({ subjectId: notifications.subjectId, n: sql<number>`count(*)::int` })
    .from(notifications)
    .where(and(eq(notifications.kind, kind), inArray(notifications.subjectId, ids)))
    .groupBy(notifications.subjectId);
  return new Map(rows.map((r) => [r.subjectId!, r.n]));
}
