import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError } from '../../domain/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  code: string;
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

export function problem(
  request: FastifyRequest,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem {
  return {
    type: `urn:overture:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: String(request.id),
    code,
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, p: Problem) {
  if (p.status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(p.status).type('application/problem+json').send(p);
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.invalid_content_length',
  FST_ERR_VALIDATION: 'request.invalid',
};

/** PostgreSQL errors that mean "try again shortly", not "your request was wrong" (drizzle wraps them in `cause`). */
function isUnavailable(err: { code?: string; message?: string; cause?: unknown }, depth = 0): boolean {
  if (err.cause && typeof err.cause === 'object' && depth < 3 && isUnavailable(err.cause as typeof err, depth + 1)) return true;
  const code = err.code ?? '';
  return (
    // 57014: a statement cancelled (statement_timeout, an operator's pg_cancel_backend).
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57014', '57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code) ||
    code.startsWith('08') ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message ?? '')
  );
}

function validationErrors(err: FastifyError) {
  const context = err.validationContext ?? 'body';
  return (err.validation ?? []).map((v) => {
    const path = [context, ...v.instancePath.split('/').filter(Boolean)].join('.');
    return { path, message: v.message ?? 'is invalid' };
  });
}

export default fp(async function errors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof DomainError) {
      const { retryAfter, ...extra } = err.extra;
      if (err.status === 429 || err.status === 503) reply.header('retry-after', String(retryAfter ?? 1));
      return sendProblem(reply, problem(request, err.status, err.code, err.message, extra));
    }
    if (hasZodFastifySchemaValidationErrors(err) || err.validation) {
      const errors = validationErrors(err);
      const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      return sendProblem(reply, problem(request, 400, 'request.invalid', detail || 'The request is invalid.', { errors }));
    }
    if (isResponseSerializationError(err)) {
      request.log.error(
        { err, issues: err.cause?.issues?.map((i) => ({ code: i.code, path: i.path })) },
        'response did not match its schema',
      );
      return sendProblem(reply, problem(request, 500, 'internal', 'Something went wrong on our side.'));
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = FASTIFY_CODES[err.code] ?? (status === 429 ? 'rate_limited' : `request.${status === 404 ? 'not_found' : 'invalid'}`);
      if (status === 429) reply.header('retry-after', reply.getHeader('retry-after') ?? '1');
      return sendProblem(reply, problem(request, status, code, err.message));
    }
    if (isUnavailable(err)) {
      request.log.warn({ err }, 'database unavailable');
      reply.header('retry-after', '2');
      return sendProblem(reply, problem(request, 503, 'service.unavailable', 'The database is unavailable; retry shortly.'));
    }
    request.log.error({ err }, 'unhandled error');
    return sendProblem(reply, problem(request, 500, 'internal', 'Something went wrong on our side.'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(request, 404, 'route.not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );
});
