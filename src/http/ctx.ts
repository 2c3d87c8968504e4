import type { FastifyRequest } from 'fastify';
import { AuditBatcher } from '../domain/audit/batcher.js';
import type { Ctx } from '../domain/context.js';
import { enqueueRequests } from '../queue/requests.js';
import type { AppDeps } from './deps.js';

export function ctxOf(deps: AppDeps, request: FastifyRequest): Ctx {
  return {
    principal: request.principal,
    requestId: String(request.id),
    clock: deps.clock,
    secret: deps.secret,
    jobs: [],
    recordRead: (events) => auditBatcher(deps).record(events),
  };
}

const batchers = new WeakMap<AppDeps, AuditBatcher>();
/** One batcher per app (per process in production). */
function auditBatcher(deps: AppDeps): AuditBatcher {
  let b = batchers.get(deps);
  if (!b) {
    b = new AuditBatcher(deps.db, deps.clock);
    batchers.set(deps, b);
  }
  return b;
}

/** Enqueues what a committed write asked for (never failing the request). */
export async function flushJobs(deps: AppDeps, ctx: Ctx): Promise<void> {
  await enqueueRequests(deps.queues, deps.logger, ctx.jobs.splice(0));
}
