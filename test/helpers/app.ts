import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import { loadConfig } from '../../src/config/env.js';
import type { Clock } from '../../src/domain/clock.js';
import { createProgram } from '../../src/domain/programs/service.js';
import type { ProgramSettings } from '../../src/domain/programs/settings.js';
import type { ResolveHost } from '../../src/domain/programs/webhook-target.js';
import type { Role } from '../../src/domain/staff/principal.js';
import { createStaff } from '../../src/domain/staff/service.js';
import { createToken } from '../../src/domain/staff/tokens.js';
import { buildServer } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createQueueSystem, type QueueSystem } from '../../src/queue/system.js';
import type { Who } from './cast.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

/** A clock tests move by hand. */
export class TestClock implements Clock {
  constructor(public current = new Date()) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  queues: QueueSystem;
  /** The queue namespace, for a second worker process on the same queues. */
  namespace: string;
  clock: Clock;
  /** OVERTURE_WEBHOOK_ALLOW_PRIVATE as this app runs with (workersFor passes it on). */
  webhookAllowPrivate: boolean;
  /** The app's logger (workersFor logs through it too). */
  logger: pino.Logger;
  close(): Promise<void>;
  /** A program nobody works in yet (a program with people: `cast`, in cast.ts). */
  program(settings?: Partial<ProgramSettings>): Promise<{ id: string }>;
  /** One staff member and their bearer token (`programId` null for an admin). */
  staff(role: Role, programId: string | null, extra?: { specialisms?: string[]; languages?: string[]; maxCaseload?: number }): Promise<Who>;
}

/** The production server (same buildServer), on a database of its own. */
export async function createTestApp(
  opts: {
    clock?: Clock;
    redisUrl?: string;
    rateLimit?: { perIp: number; perToken: number };
    /** Default true, as the embedded default: tests post to local receivers and cannot resolve names (no outside DNS). */
    webhookAllowPrivate?: boolean;
    resolveHost?: ResolveHost;
    /** More environment for loadConfig (e.g. OVERTURE_TRUST_PROXY). */
    env?: Record<string, string>;
    /** Every log line (all levels), through the production logger's serializers, as written. */
    logLines?: string[];
  } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const lines = opts.logLines;
  const logger = lines
    ? createLogger({ level: 'trace', destination: { write: (l: string) => void lines.push(l) } })
    : createLogger({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent', pretty: false });
  const config = loadConfig({
    DATABASE_URL: db.url,
    OVERTURE_SECRET: TEST_SECRET,
    REDIS_URL: opts.redisUrl ?? '',
    // Tests send hundreds of requests from one address; test/security.test.ts sets its own limits.
    OVERTURE_RATE_LIMIT_PER_IP: String(opts.rateLimit?.perIp ?? 0),
    OVERTURE_RATE_LIMIT_PER_TOKEN: String(opts.rateLimit?.perToken ?? 0),
    OVERTURE_WEBHOOK_ALLOW_PRIVATE: String(opts.webhookAllowPrivate ?? true),
    ...opts.env,
  });
  const clock = opts.clock ?? { now: () => new Date() };
  const namespace = `t${randomBytes(4).toString('hex')}`;
  const queues = createQueueSystem({ redisUrl: opts.redisUrl, databaseUrl: db.url, namespace, logger });
  const app = await buildServer({
    config,
    db: db.db,
    pool: db.pool,
    secret: TEST_SECRET,
    clock,
    queues,
    logger,
    resolveHost: opts.resolveHost,
  });
  await app.ready();
  return {
    app,
    db,
    queues,
    namespace,
    clock,
    webhookAllowPrivate: config.webhookAllowPrivate,
    logger,
    async close() {
      await app.close();
      await queues.close();
      await db.close();
    },
    async program(settings) {
      const p = await createProgram(db.db, { name: `Program ${randomBytes(3).toString('hex')}`, settings });
      return { id: p.id };
    },
    async staff(role, programId, extra = {}) {
      const s = await createStaff(db.db, { role, programId, name: `${role} ${randomBytes(2).toString('hex')}`, ...extra });
      const { token } = await createToken(db.db, TEST_SECRET, s.id, 'test');
      return { id: s.id, token, auth: { authorization: `Bearer ${token}` } };
    },
  };
}

/** Asserts an RFC 9457 body and returns it. */
export function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code?: string,
) {
  const body = res.json() as Record<string, unknown>;
  if (res.statusCode !== status || (code && body['code'] !== code)) {
    throw new Error(`expected ${status} ${code ?? ''}, got ${res.statusCode}: ${JSON.stringify(body)}`);
  }
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${String(res.headers['content-type'])}`);
  }
  for (const k of ['type', 'title', 'status', 'detail', 'instance', 'requestId', 'code']) {
    if (!(k in body)) throw new Error(`problem lacks ${k}: ${JSON.stringify(body)}`);
  }
  return body;
}
