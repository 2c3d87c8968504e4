import type { Logger } from 'pino';
import type { JobRequest } from '../domain/context.js';
import type { QueueSystem } from './system.js';

/** A request's own options: its deterministic id and its delay. */
export function jobOptions(job: JobRequest): { jobId?: string; delay?: number } {
  return {
    ...(job.jobId ? { jobId: job.jobId } : {}),
    ...(job.delayMs !== undefined ? { delay: Math.max(0, Math.round(job.delayMs)) } : {}),
  };
}

/** One branch per queue, so each job is checked against its own queue's names and payloads (no cast). */
function enqueueOne(queues: Pick<QueueSystem, 'enqueue'>, job: JobRequest): Promise<void> {
  const opts = jobOptions(job);
  switch (job.queue) {
    case 'reminders':
      return queues.enqueue(job.queue, job.name, job.payload, opts);
    case 'maintenance':
      return queues.enqueue(job.queue, job.name, job.payload, opts);
    case 'webhooks':
      return queues.enqueue(job.queue, job.name, job.payload, opts);
  }
}

/**
 * Jobs marked `once` this process has asked for, by queue and id, until their delay has passed:
 * a burst of due reminders adds its bucket's overdue sweep once, not once per reminder (BullMQ
 * would ignore the repeats, but each is a call to the queue). An add that failed is tried again
 * by the next request for it. Past ONCE_KEPT ids it starts again from empty: at worst a repeat.
 */
const asked = new Map<string, { until: number; added: Promise<boolean> }>();
const ONCE_KEPT = 10_000;

async function enqueueOnce(queues: Pick<QueueSystem, 'enqueue'>, job: JobRequest): Promise<void> {
  const key = `${job.queue}/${job.jobId ?? ''}`;
  const now = Date.now();
  const prior = asked.get(key);
  if (prior && prior.until > now && (await prior.added)) return;
  const attempt = enqueueOne(queues, job);
  if (asked.size >= ONCE_KEPT) asked.clear();
  asked.set(key, {
    until: now + Math.max(0, job.delayMs ?? 0),
    added: attempt.then(
      () => true,
      () => false,
    ),
  });
  await attempt;
}

/**
 * Enqueues jobs a committed transaction asked for. A queue outage never fails the caller: the
 * truth is in PostgreSQL, and the reconcile job finds anything that was not enqueued.
 */
export async function enqueueRequests(queues: Pick<QueueSystem, 'enqueue'>, logger: Logger, jobs: readonly JobRequest[]): Promise<void> {
  await Promise.all(
    jobs.map(async (job) => {
      try {
        await (job.once && job.jobId ? enqueueOnce(queues, job) : enqueueOne(queues, job));
      } catch (err) {
        logger.warn({ queue: job.queue, job: job.name, err }, 'enqueue failed; reconcile will pick it up');
      }
    }),
  );
}
