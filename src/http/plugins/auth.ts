import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DomainError, notFound } from '../../domain/errors.js';
import type { Principal, Role } from '../../domain/staff/principal.js';
import { authenticate } from '../../domain/staff/tokens.js';
import type { AppDeps } from '../deps.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: 'public' or the roles allowed. A route without it is refused at start. */
    auth?: 'public' | readonly Role[];
  }
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** Every route with its auth policy, as registered (the hostile-client tests iterate it). */
    routeTable: RouteEntry[];
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  /** `own`: Bull Board's routes, which check for an admin themselves. */
  auth: 'public' | readonly Role[] | 'own';
}

/**
 * A route's policy: its own `config.auth`, or that of the routes plugins bring (Swagger UI is
 * public, Bull Board checks admins itself); undefined means none was given.
 */
function policyOf(route: { url: string; config?: { auth?: RouteEntry['auth'] } }): RouteEntry['auth'] | undefined {
  return route.config?.auth ?? (route.url.startsWith('/docs') ? 'public' : route.url.startsWith('/admin/queues') ? 'own' : undefined);
}

/** Records every route of the server (call on the root instance, before the app registers). */
export function recordRoutes(server: FastifyInstance) {
  const table: RouteEntry[] = [];
  server.decorate('routeTable', table);
  server.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const auth = policyOf(route);
    if (!auth) return;
    for (const method of methods) table.push({ method, url: route.url, auth });
  });
}

export const ALL_ROLES: readonly Role[] = ['admin', 'lead', 'analyst', 'intervener', 'evaluator', 'dpo'];

/**
 * Routes about one case (or something of one case). An evaluator sees no case contents at all, so
 * for them every such route is 404 as if the case did not exist (API.md, Roles), never a 403 that
 * would confirm it does.
 */
const CASE_ROUTE = /^\/v1\/(cases\/:id|touchpoints\/:id|follow-ups\/:id|safeguarding\/:id|referrals\/:id)(\/|$)/;

const unauthorized = (detail: string) => new DomainError(401, 'auth.unauthorized', detail);

export default fp(async function auth(app: FastifyInstance, deps: AppDeps) {
  app.decorateRequest('principal', null as unknown as Principal);

  app.addHook('onRoute', (route) => {
    if (policyOf(route)) return;
    throw new Error(`route ${route.method} ${route.url} has no auth policy`);
  });

  app.addHook('onRequest', async (request, reply) => {
    const policy = request.routeOptions.config.auth;
    if (policy === undefined) return;
    await app.perIpLimit?.(request);
    if (policy === 'public') return;
    const header = request.headers.authorization;
    if (!header) throw unauthorized('Send `Authorization: Bearer ovt_…`.');
    const match = /^Bearer (\S+)$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must be `Bearer <token>`.');
    const principal = await authenticate(deps.db, deps.secret, match[1]!);
    if (!principal) {
      request.log.info({ reason: 'invalid_token' }, 'authentication failed');
      reply.header('www-authenticate', 'Bearer');
      throw unauthorized('The token is unknown, revoked, or its holder is deactivated.');
    }
    request.principal = principal;
    await app.perTokenLimit?.(request);
    if (!policy.includes(principal.role)) {
      // Evaluators and dpos work from reports, requests and holds: a case route is not theirs, and for them there is no case.
      if ((principal.role === 'evaluator' || principal.role === 'dpo') && CASE_ROUTE.test(request.routeOptions.url ?? ''))
        throw notFound('case');
      throw new DomainError(403, 'auth.forbidden', `The ${principal.role} role may not do this.`);
    }
  });
});
