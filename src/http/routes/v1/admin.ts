import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../../domain/errors.js';
import { RUNNABLE_JOBS, type RunnableJob } from '../../../queue/jobs.js';
import type { AppDeps } from '../../deps.js';
import { errorResponses, singleLine } from '../../schemas/common.js';

const runSchema = z
  .object({
    name: z.enum(RUNNABLE_JOBS),
    jobId: z.string(),
    state: z.string().describe('completed, failed, or the queue state when not waited for'),
    result: z.unknown().optional(),
    failedReason: z.string().optional(),
  })
  .meta({ id: 'JobRun' });

const WAIT_LIMIT_MS = 60_000;

export const adminRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/admin/jobs/:name/run',
    {
      config: { auth: ['admin'] },
      schema: {
        tags: ['admin'],
        summary: 'Run a scheduled job now; with wait=true answer when it has finished',
        params: z.strictObject({ name: singleLine({ max: 50 }).meta({ example: 'reconcile' }) }),
        body: z.strictObject({}).nullish(),
        querystring: z.strictObject({ wait: z.enum(['true', 'false']).default('false') }),
        response: { 200: runSchema, 202: runSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const name = request.params.name as RunnableJob;
      if (!RUNNABLE_JOBS.includes(name)) {
        throw new DomainError(404, 'job.not_found', `No runnable job "${request.params.name}". Runnable: ${RUNNABLE_JOBS.join(', ')}.`);
      }
      const jobId = `manual-${name}-${randomUUID()}`;
      const queue = deps.queues.queue('maintenance');
      try {
        await deps.queues.enqueue('maintenance', name, {}, { jobId, attempts: 1 });
      } catch {
        throw new DomainError(503, 'queue.unavailable', 'The queue backend is unavailable; try again shortly.', { retryAfter: 5 });
      }
      if (request.query.wait === 'false') return reply.code(202).send({ name, jobId, state: 'queued' });
      const deadline = Date.now() + WAIT_LIMIT_MS;
      for (;;) {
        const job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'completed') return reply.code(200).send({ name, jobId, state, result: job!.returnvalue });
        if (state === 'failed') return reply.code(200).send({ name, jobId, state, failedReason: job!.failedReason });
        if (Date.now() > deadline) return reply.code(202).send({ name, jobId, state });
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  );
};
