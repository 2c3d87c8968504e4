import { DelayedError, type Job, RateLimitError, UnrecoverableError, WaitingChildrenError, WaitingError, type Worker } from 'bullmq';
import { underLock } from '../src/db/locks.js';
import { redactedMessage, safeStack } from '../src/logger.js';
import { jobDuration, jobFailures } from '../src/metrics.js';
import { JOBS, type QueueName, SCHEDULES } from '../src/queue/jobs.js';
import { startHeartbeat } from './heartbeat-file.js';
import { heartbeat, noContactScan, reconcile, retention, rollup, supervisionScan } from './processors/maintenance.js';
import {
  debriefOverdue,
  followUpDue,
  followUpOverdue,
  followUpOverdueSweep,
  responseSla,
  safeguardingEscalate,
} from './processors/reminders.js';
import { deliver } from './processors/webhooks.js';
import type { ProcessorMap, WorkerDeps } from './types.js';

/**
 * Jobs each worker process runs at once, per queue and backend. Reminders are short and, on Redis,
 * mostly waiting on a round trip: many at once (due ones arriving together share one statement and
 * one commit, two such batches in flight). Under overload (400,000 due over 20 s, session 8) 256
 * ran 8,017-8,170 real reminders/s against 6,790-7,587/s at 128, where both cores still had a
 * fifth idle: each job waits on its batch, so more of them in flight made bigger batches. 512 gave
 * no more (8,362/s). BullMQ's PostgreSQL backend claims jobs with row locks: there 64 made its
 * fetchers contend (reminder lag p99 0.13 s at 16, 5.7 s at 64, 10,000 due over 60 s), so it keeps
 * 16 (bench/RESULTS.md). Maintenance jobs are big: one or two.
 */
export const CONCURRENCY: Record<'redis' | 'postgres', Record<QueueName, number>> = {
  redis: { reminders: 256, webhooks: 8, maintenance: 2 },
  postgres: { reminders: 16, webhooks: 8, maintenance: 2 },
};

export const processors: ProcessorMap = {
  reminders: {
    'follow-up-due': followUpDue,
    'follow-up-overdue': followUpOverdue,
    'follow-up-overdue-sweep': followUpOverdueSweep,
    'response-sla': responseSla,
    'safeguarding-escalate': safeguardingEscalate,
    'debrief-overdue': debriefOverdue,
  },
  maintenance: { heartbeat, reconcile, 'no-contact-scan': noContactScan, rollup, retention, 'supervision-scan': supervisionScan },
  webhooks: { deliver },
};

/** Refuses to start when a job in the map has no processor (or a processor has no job). */
export function assertEveryJobHandled(map: Record<string, Record<string, unknown>>) {
  for (const [queue, jobs] of Object.entries(JOBS)) {
    for (const name of Object.keys(jobs)) {
      if (typeof map[queue]?.[name] !== 'function') throw new Error(`job ${queue}/${name} has no processor`);
    }
    for (const name of Object.keys(map[queue] ?? {})) {
      if (!(name in jobs)) throw new Error(`processor ${queue}/${name} handles no known job`);
    }
  }
}

/** BullMQ's own control-flow errors: they carry no value and must reach it as they are. */
const CONTROL_ERRORS = [DelayedError, RateLimitError, WaitingChildrenError, WaitingError];

/**
 * What BullMQ stores of a failure (`failedReason`, `stacktrace`, shown in Bull Board and by the
 * jobs route): a new error with the redacted message and a stack rebuilt on it, never the original.
 */
export function failureRecord(err: unknown): Error {
  if (CONTROL_ERRORS.some((C) => err instanceof C)) return err as Error;
  const message = redactedMessage(err);
  const safe = err instanceof UnrecoverableError ? new UnrecoverableError(message) : new Error(message);
  // BullMQ stores only message and stack; the cause reaches the 'failed' log line, serialized.
  safe.cause = err;
  const type = err && typeof err === 'object' ? (err.constructor?.name ?? 'Error') : 'Error';
  safe.stack = safeStack(err, type, message) ?? `${type}: ${message}`;
  return safe;
}

export interface RunningWorkers {
  workers: Worker[];
  close(deadlineMs?: number): Promise<void>;
}

export async function startWorkers(
  deps: WorkerDeps,
  opts: { schedules?: boolean; every?: Partial<Record<string, number>> } = {},
): Promise<RunningWorkers> {
  assertEveryJobHandled(processors);
  const workers: Worker[] = [];
  for (const queue of Object.keys(JOBS) as QueueName[]) {
    const table = processors[queue] as Record<string, (p: unknown, d: WorkerDeps, j: Job) => Promise<unknown>>;
    const schemas = JOBS[queue] as Record<string, { parse(v: unknown): unknown }>;
    const worker = deps.queues.createWorker(
      queue,
      async (job) => {
        const processor = table[job.name];
        const schema = schemas[job.name];
        if (!processor || !schema) throw new Error(`no processor for ${queue}/${job.name}`);
        try {
          return await processor(schema.parse(job.data), deps, job);
        } catch (err) {
          throw failureRecord(err);
        }
      },
      { concurrency: CONCURRENCY[deps.queues.kind][queue] },
    );
    worker.on('failed', (job, err) => {
      jobFailures.inc({ queue, job: job?.name ?? 'unknown' });
      deps.logger.warn({ queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err }, 'job failed');
    });
    worker.on('completed', (job) => {
      if (job.processedOn && job.finishedOn) jobDuration.observe({ queue, job: job.name }, (job.finishedOn - job.processedOn) / 1000);
    });
    workers.push(worker);
  }
  let heal: NodeJS.Timeout | undefined;
  if (opts.schedules !== false) {
    await upsertSchedules(deps, opts.every);
    // A flushed or replaced Redis loses its schedulers: put them back (idempotent) every minute.
    heal = setInterval(
      () => {
        upsertSchedules(deps, opts.every).catch((err: Error) => deps.logger.warn({ err }, 'could not upsert job schedulers'));
      },
      Math.min(60_000, opts.every?.['reconcile'] ?? 60_000),
    );
    heal.unref();
  }
  // What `overture health` reads for the worker role (docker compose's healthcheck).
  const liveness = startHeartbeat(deps, workers);
  return {
    workers,
    async close(deadlineMs = 10_000) {
      if (heal) clearInterval(heal);
      await liveness.stop();
      // Active jobs finish; past the deadline they are left to BullMQ's stalled-job recovery.
      const closing = Promise.allSettled(workers.map((w) => w.close()));
      const deadline = new Promise((r) => setTimeout(r, deadlineMs).unref());
      await Promise.race([closing, deadline]);
      await Promise.allSettled(workers.map((w) => w.close(true)));
    },
  };
}

/** Upserted under an advisory lock, so concurrent worker starts create each scheduler once. */
export async function upsertSchedules(deps: WorkerDeps, every: Partial<Record<string, number>> = {}) {
  await underLock(deps.db, 'schedulers', async () => {
    for (const s of SCHEDULES) {
      await deps.queues.queue(s.queue).upsertJobScheduler(s.name, { every: every[s.name] ?? s.every }, { name: s.name, data: {} });
    }
  });
}
