import type { FastifyRequest } from 'fastify';
import type { Ctx } from '../domain/context.js';
import type { AppDeps } from './deps.js';

export function ctxOf(deps: AppDeps, request: FastifyRequest): Ctx {
  return { principal: request.principal, requestId: String(request.id), clock: deps.clock, secret: deps.secret, jobs: [] };
}

/**
 * Enqueues what a committed write asked for. A queue outage never fails the request: the write is
 * in PostgreSQL, and the reconcile job will find anything that was not enqueued.
 */
export async function flushJobs(deps: AppDeps, ctx: Ctx): Promise<void> {
  const jobs = ctx.jobs.splice(0);
  await Promise.all(
    jobs.map(async (job) => {
      try {
        await deps.queues.enqueue(job.queue as never, job.name as never, job.payload as never, {
          ...(job.jobId ? { jobId: job.jobId } : {}),
          ...(job.delayMs !== undefined ? { delay: Math.max(0, job.delayMs) } : {}),
        });
      } catch (err) {
        deps.logger.warn({ queue: job.queue, job: job.name, err: (err as Error).message }, 'enqueue failed; reconcile will pick it up');
      }
    }),
  );
}
