import { createPostgresBackend, type JobsOptions, type Processor, Queue, Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { JOBS, type JobName, type Payload, QUEUE_NAMES, type QueueName } from './jobs.js';

export type QueueBackendKind = 'redis' | 'postgres';
export type QueueHealth = 'ok' | 'degraded';

export interface QueueSystemOptions {
  /** Set: BullMQ on Redis. Unset: BullMQ's PostgreSQL backend in `databaseUrl`. */
  redisUrl?: string | undefined;
  databaseUrl: string;
  /** OVERTURE_QUEUE_PREFIX (default `overture`): see redisPrefix and postgresSchema. Tests use their own. */
  namespace?: string;
  logger: Logger;
}

export interface QueueSystem {
  kind: QueueBackendKind;
  /** Adds a job; rejects at once when the backend is down (callers treat that as "reconcile will do it"). */
  enqueue<Q extends QueueName, J extends JobName<Q>>(queue: Q, name: J, payload: Payload<Q, J>, opts?: JobsOptions): Promise<void>;
  queue(name: QueueName): Queue;
  createWorker(name: QueueName, processor: Processor, opts?: Partial<WorkerOptions>): Worker;
  health(): Promise<QueueHealth>;
  close(): Promise<void>;
}

type AnyQueueCtor = new (name: string, opts: Record<string, unknown>, factory?: unknown) => Queue;
type AnyWorkerCtor = new (name: string, p: Processor, opts: Record<string, unknown>, factory?: unknown) => Worker;

export const DEFAULT_QUEUE_PREFIX = 'overture';

/** Every Redis key of a deployment starts with this; the hash tag keeps them in one Cluster slot. */
export function redisPrefix(prefix: string = DEFAULT_QUEUE_PREFIX): string {
  return `{${prefix}}`;
}

/**
 * The PostgreSQL backend's schema: `bullmq` for the default prefix (where earlier versions kept
 * their queued jobs), `bullmq_<prefix>` otherwise (`-` read as `_`: a schema name allows no `-`).
 */
export function postgresSchema(prefix: string = DEFAULT_QUEUE_PREFIX): string {
  return prefix === DEFAULT_QUEUE_PREFIX ? 'bullmq' : `bullmq_${prefix.replace(/[^a-z0-9_]/gi, '_')}`;
}

/** What every job gets: retries with backoff (a processor's effects are idempotent). */
export const JOB_DEFAULTS = { attempts: 5, backoff: { type: 'exponential' as const, delay: 1000 } };
export function createQueueSystem(opts: QueueSystemOptions): QueueSystem {
  const log = opts.logger;
  const queues = new Map<QueueName, Queue>();
  const workers = new Set<Worker>();
  const closers: (() => Promise<unknown>)[] = [];
  let base: { connection: unknown; prefix?: string };
  let workerBase: () => { connection: unknown; prefix?: string };
  let factory: unknown;
  let producerRedis: Redis | undefined;
  let everReady = false;

  if (opts.redisUrl) {
    const prefix = redisPrefix(opts.namespace);
    // Producers fail fast when Redis is down; workers retry forever.
    producerRedis = new Redis(opts.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: false,
    });
    producerRedis.on('error', (err) => log.debug({ err }, 'redis producer connection error'));
    producerRedis.on('ready', () => {
      everReady = true;
    });
    const redis = producerRedis;
    closers.push(async () => redis.quit().catch(() => redis.disconnect()));
    base = { connection: producerRedis, prefix };
    workerBase = () => {
      const conn = new Redis(opts.redisUrl!, { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(t * 200, 2000) });
      conn.on('error', (err) => log.debug({ err }, 'redis worker connection error'));
      closers.push(async () => conn.quit().catch(() => conn.disconnect()));
      return { connection: conn, prefix };
    };
  } else {
    const schema = postgresSchema(opts.namespace);
    const connection = { connectionString: opts.databaseUrl, schema, migrate: true, max: 4, application_name: 'overture-queue' };
    base = { connection };
    workerBase = () => ({ connection });
    factory = createPostgresBackend;
  }
  const QueueCtor = Queue as unknown as AnyQueueCtor;
  const WorkerCtor = Worker as unknown as AnyWorkerCtor;

  function queue(name: QueueName): Queue {
    let q = queues.get(name);
    if (!q) {
      q = new QueueCtor(name, { ...base, defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 5000 } }, factory);
      q.on('error', (err: Error) => log.debug({ err, queue: name }, 'queue error'));
      queues.set(name, q);
    }
    return q;
  }

  return {
    kind: opts.redisUrl ? 'redis' : 'postgres',
    queue,
    async enqueue(qName, name, payload, jobOpts) {
      const schema = (JOBS[qName] as Record<string, { parse(v: unknown): unknown }>)[name];
      if (!schema) throw new Error(`unknown job ${qName}/${name}`);
      const data = schema.parse(payload);
      if (producerRedis && producerRedis.status !== 'ready') {
        // Only the very first connection is waited for; an outage fails at once.
        if (everReady) throw new Error('queue backend unavailable');
        await readyWithin(producerRedis, 500);
      }
      await queue(qName).add(name, data, { ...JOB_DEFAULTS, ...jobOpts });
    },
    createWorker(name, processor, wOpts) {
      const worker = new WorkerCtor(name, processor, { ...workerBase(), concurrency: 4, ...wOpts }, factory);
      worker.on('error', (err: Error) => log.warn({ err, queue: name }, 'worker error'));
      workers.add(worker);
      return worker;
    },
    async health() {
      if (producerRedis) return producerRedis.status === 'ready' ? 'ok' : 'degraded';
      try {
        await queue(QUEUE_NAMES[0]!).getJobCounts('waiting');
        return 'ok';
      } catch {
        return 'degraded';
      }
    },
    async close() {
      await Promise.allSettled([...workers].map((w) => w.close()));
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}

/** Fail fast: a producer waits at most `ms` for Redis, then the caller falls back on reconcile. */
function readyWithin(redis: Redis, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error('queue backend unavailable'));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** A Redis that evicts keys can silently drop delayed jobs; say so loudly. */
export async function checkRedisPolicy(redisUrl: string, logger: Logger): Promise<string | undefined> {
  const conn = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  conn.on('error', () => {});
  try {
    await conn.connect();
    const res = (await conn.config('GET', 'maxmemory-policy')) as string[];
    const policy = res[1];
    if (policy && policy !== 'noeviction') {
      logger.warn(
        `!!! Redis maxmemory-policy is "${policy}", not "noeviction": Redis may evict queued reminders. ` +
          'Set `maxmemory-policy noeviction` (reconcile will still catch them, but late). !!!',
      );
    }
    return policy;
  } catch (err) {
    logger.warn({ err }, 'could not read Redis maxmemory-policy (CONFIG may be disabled)');
    return undefined;
  } finally {
    conn.disconnect();
  }
}
