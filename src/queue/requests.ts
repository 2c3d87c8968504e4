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
 * Enqueues jobs a committed transaction asked for. A queue outage never fails the caller: the
 * truth is in PostgreSQL, and the reconcile job finds anything that was not enqueued.
 */
export async function enqueueRequests(queues: Pick<QueueSystem, 'enqueue'>, logger: Logger, jobs: readonly JobRequest[]): Promise<void> {
  await Promise.all(
    jobs.map(async (job) => {
      try {
        await enqueueOne(queues, job);
      } catch (err) {
        logger.warn({ queue: job.queue, job: job.name, err }, 'enqueue failed; reconcile will pick it up');
      }
    }),
  );
}
