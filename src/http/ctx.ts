import type { FastifyRequest } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { enqueueRequests } from '../queue/requests.js';
import type { AppDeps } from './deps.js';

export function ctxOf(deps: AppDeps, request: FastifyRequest): Ctx {
  return { principal: request.principal, requestId: String(request.id), clock: deps.clock, secret: deps.secret, jobs: [] };
}

/** Enqueues what a committed write asked for (never failing the request). */
export async function flushJobs(deps: AppDeps, ctx: Ctx): Promise<void> {
  await enqueueRequests(deps.queues, deps.logger, ctx.jobs.splice(0));
}
