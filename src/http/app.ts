import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
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
import { workbench } from './routes/workbench.js';
import { adminRoutes } from './routes/v1/admin.js';
import { assessmentRoutes } from './routes/v1/assessments.js';
import { outreachRoutes } from './routes/v1/outreach.js';
import { referralRoutes } from './routes/v1/referrals.js';
import { auditRoutes } from './routes/v1/audit.js';
import { caseRoutes } from './routes/v1/cases.js';
import { followUpRoutes } from './routes/v1/followups.js';
import { meRoutes } from './routes/v1/me.js';
import { noteRoutes } from './routes/v1/notes.js';
import { reviewRoutes } from './routes/v1/reviews.js';
import { notificationRoutes } from './routes/v1/notifications.js';
import { programRoutes } from './routes/v1/programs.js';
import { protectionRoutes } from './routes/v1/protection.js';
import { reportRoutes } from './routes/v1/reports.js';
import { evaluationRoutes } from './routes/v1/evaluation.js';
import { safeguardingRoutes } from './routes/v1/safeguarding.js';
import { staffRoutes } from './routes/v1/staff.js';
import { touchpointRoutes } from './routes/v1/touchpoints.js';
import { trialRoutes } from './routes/v1/trials.js';
import { dsrRoutes } from './routes/v1/dsr.js';
import { welfareRoutes } from './routes/v1/welfare.js';
import { welfareReportRoutes } from './routes/v1/welfare-report.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set on shutdown, before the listener closes (readyz answers 503). */
    draining: boolean;
  }
  interface FastifyRequest {
    /** The client's own `X-Request-Id`, when it is a plausible one: logged and echoed, never the audit's. */
    readonly clientRequestId: string | null;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;

function clientRequestIdOf(headers: IncomingHttpHeaders): string | null {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : null;
}

/**
 * Errors Node's HTTP parser raises before any request exists (a Content-Length that is not a
 * number, headers too large, a malformed request line): written as problem+json on the socket.
 */
function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex) {
  // A reset socket has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] = clientErrorProblem(err.code);
  const requestId = uuidv7();
  this.log.debug({ err, requestId, status }, 'client error');
  // As Node's own handler: never write into a response already under way on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({
      type: `urn:overture:problem:${code}`,
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      instance: `urn:uuid:${requestId}`,
      requestId,
      code,
    });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function clientErrorProblem(code: string | undefined): [number, string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'request.headers_too_large', 'The request headers are too large.'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_REQUEST_HEADERS_TIMEOUT':
      return [408, 'request.timeout', 'The request took too long to arrive.'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'request.body_too_large', 'The chunk extensions are too large.'];
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'request.invalid_content_length', 'The Content-Length header is invalid (not a number, or given twice).'];
    case 'HPE_INVALID_EOF_STATE':
      return [400, 'request.invalid_content_length', 'The connection ended before the body Content-Length announced.'];
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return [400, 'request.invalid_transfer_encoding', 'Transfer-Encoding is invalid or sent with Content-Length.'];
    default:
      return [400, 'request.malformed', 'The request could not be parsed as HTTP.'];
  }
}

/** The whole HTTP app as one plugin: external → app → routes, in that order. */
export const app: FastifyPluginAsync<AppDeps> = async (instance, deps) => {
  const f = instance.withTypeProvider<ZodTypeProvider>();
  // JSON.parse keeps `__proto__` and `constructor` as plain own keys, which the strict request
  // schemas then refuse by name like any other unknown field (never reaching a prototype).
  f.removeContentTypeParser('application/json');
  f.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '')
      return done(new DomainError(400, 'request.empty_body', 'The body is empty but content-type is application/json.'), undefined);
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
  await f.register(noteRoutes, deps);
  await f.register(reviewRoutes, deps);
  await f.register(assessmentRoutes, deps);
  await f.register(outreachRoutes, deps);
  await f.register(referralRoutes, deps);
  await f.register(safeguardingRoutes, deps);
  await f.register(notificationRoutes, deps);
  await f.register(reportRoutes, deps);
  await f.register(evaluationRoutes, deps);
  await f.register(trialRoutes, deps);
  await f.register(protectionRoutes, deps);
  await f.register(welfareRoutes, deps);
  await f.register(welfareReportRoutes, deps);
  await f.register(dsrRoutes, deps);
  await f.register(reportsPage, deps);
  await f.register(workbench, deps);
  await f.register(adminRoutes, deps);
  await f.register(auditRoutes, deps);
  await queueBoard(f as unknown as FastifyInstance, deps);
};

/** Builds the Fastify server exactly as production runs it; tests call this too. */
export async function buildServer(deps: AppDeps) {
  const server = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    // Client address (rate limits) and protocol (Secure cookies) from X-Forwarded-* only when set.
    // A hop count is honoured at run time (proxy-addr), though Fastify's types leave it out.
    trustProxy: deps.config.trustProxy as boolean | string[],
    requestIdHeader: false,
    // Always the server's own: it is the audit's requestId, which a client must not choose.
    genReqId: () => uuidv7(),
    childLoggerFactory: (logger, bindings, opts, raw) => {
      const clientRequestId = clientRequestIdOf((raw as { headers: IncomingHttpHeaders }).headers);
      return logger.child(clientRequestId ? { ...bindings, clientRequestId } : bindings, opts);
    },
    clientErrorHandler,
    ajv: undefined,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Fastify's own answer while closing is not problem+json; the onRequest hook below answers instead.
    return503OnClosing: false,
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
  server.decorateRequest('clientRequestId', {
    getter(this: FastifyRequest) {
      return clientRequestIdOf(this.headers);
    },
  });
  let closing = false;
  server.addHook('preClose', async () => {
    closing = true;
  });
  server.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close').header('retry-after', '1');
    return sendProblem(reply, problem(request, 503, 'service.unavailable', 'The server is shutting down; retry shortly.'));
  });
  server.addHook('onSend', async (request, reply) => {
    // The client's own id when it sent one (so it can find its request); the server's otherwise.
    reply.header('x-request-id', request.clientRequestId ?? request.id);
  });
  await server.register(app, deps);
  return server;
}
