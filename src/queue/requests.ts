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

/**
 * Enqueues jobs a committed transaction asked for. A queue outage never fails the caller: the
 * truth is in PostgreSQL, and the reconcile job finds anything that was not enqueued.
 */
export async function enqueueRequests(queues: QueueSystem, logger: Logger, jobs: JobRequest[]): Promise<void> {
  await Promise.all(
    jobs.map(async (job) => {
      try {
        await queues.enqueue(job.queue as never, job.name as never, job.payload as never, jobOptions(job));
      } catch (err) {
        logger.warn({ queue: job.queue, job: job.name, err }, 'enqueue failed; reconcile will pick it up');
      }
    }),
  );
}
