import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { uuidv7 } from '../db/ids.js';
import { DomainError } from '../domain/errors.js';
import type { AppDeps } from './deps.js';
import auth, { recordRoutes } from './plugins/auth.js';
import errors, { problem, sendProblem } from './plugins/errors.js';
import metrics from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import security from './plugins/security.js';
import { queueBoard } from './plugins/queue-board.js';
import { healthRoutes } from './routes/health.js';
import { reportsPage } from './routes/reports-page.js';
import { adminRoutes } from './routes/v1/admin.js';
import { auditRoutes } from './routes/v1/audit.js';
import { caseRoutes } from './routes/v1/cases.js';
import { followUpRoutes } from './routes/v1/followups.js';
import { meRoutes } from './routes/v1/me.js';
import { notificationRoutes } from './routes/v1/notifications.js';
import { programRoutes } from './routes/v1/programs.js';
import { reportRoutes } from './routes/v1/reports.js';
import { safeguardingRoutes } from './routes/v1/safeguarding.js';
import { staffRoutes } from './routes/v1/staff.js';
import { touchpointRoutes } from './routes/v1/touchpoints.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set on shutdown, before the listener closes (readyz answers 503). */
    draining: boolean;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;

/** The whole HTTP app as one plugin: external → app → routes, in that order. */
export const app: FastifyPluginAsync<AppDeps> = async (instance, deps) => {
  const f = instance.withTypeProvider<ZodTypeProvider>();
  // JSON.parse keeps `__proto__` and `constructor` as plain own keys, which the strict request
  // schemas then refuse by name like any other unknown field (never reaching a prototype).
  f.removeContentTypeParser('application/json');
  f.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(new DomainError(400, 'request.empty_body', 'The body is empty but content-type is application/json.'), undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new DomainError(400, 'request.invalid_json', 'The body is not valid JSON.'), undefined);
    }
  });
  f.setValidatorCompiler(validatorCompiler);
  f.setSerializerCompiler(serializerCompiler);

  await f.register(errors);
  await f.register(security, deps);
  // Before every route, so each one's auth policy is checked and recorded.
  await f.register(auth, deps);
  await f.register(openapi);
  await f.register(metrics);

  await f.register(healthRoutes, deps);
  await f.register(meRoutes, deps);
  await f.register(programRoutes, deps);
  await f.register(staffRoutes, deps);
  await f.register(caseRoutes, deps);
  await f.register(touchpointRoutes, deps);
  await f.register(followUpRoutes, deps);
  await f.register(safeguardingRoutes, deps);
  await f.register(notificationRoutes, deps);
  await f.register(reportRoutes, deps);
  await f.register(reportsPage, deps);
  await f.register(adminRoutes, deps);
  await f.register(auditRoutes, deps);
  await queueBoard(f as unknown as FastifyInstance, deps);
};

/** Builds the Fastify server exactly as production runs it; tests call this too. */
export async function buildServer(deps: AppDeps) {
  const server = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : uuidv7();
    },
    ajv: undefined,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    return503OnClosing: true,
    // Errors raised while routing (bad percent-encoding, over-long parameters) are problems too.
    frameworkErrors: (error, request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const status = tooLong ? 414 : 400;
      void sendProblem(reply, problem(request, status, tooLong ? 'request.uri_too_long' : 'request.invalid_url', error.message));
    },
    forceCloseConnections: 'idle',
  });
  recordRoutes(server);
  server.decorate('draining', false);
  server.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await server.register(app, deps);
  return server;
}
