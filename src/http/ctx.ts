import type { FastifyRequest } from 'fastify';
import type { Actor } from '../domain/unit-of-work.js';

/** The caller of a request, as a unit of work acts for them (`run(deps, actorOf(request), …)`). */
export function actorOf(request: FastifyRequest): Actor {
  return { principal: request.principal, requestId: String(request.id) };
}
