import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { PACKAGE_VERSION } from '../../config/package-root.js';
import { OPERATIONS } from '../operations.js';
import type { RouteEntry } from './auth.js';

const TAGS = [
  { name: 'health', description: 'Liveness and readiness, for load balancers and orchestrators (no token).' },
  { name: 'me', description: 'The caller: who they are, their caseload and their notifications.' },
  { name: 'programs', description: 'Programs and their settings (admins create them; a lead reads and tunes their own).' },
  { name: 'staff', description: 'Staff members and their personal access tokens (admins).' },
  { name: 'cases', description: 'Flagged public profiles under intervention, and the workflow from flag to close.' },
  { name: 'touchpoints', description: 'Messages a person sent or received, logged by hand. Overture never sends anything.' },
  { name: 'follow-ups', description: 'Reminders for staff, never messages to profiles.' },
  { name: 'safeguarding', description: 'Concerns for someone’s safety, escalated until a lead acknowledges them.' },
  { name: 'reports', description: 'Engagement funnels with confidence intervals; small cells suppressed.' },
  { name: 'notes', description: 'Case notes: general, handover and supervision notes, scoped and erased with the case.' },
  { name: 'reviews', description: 'Independent, blind peer review of closed cases’ outcomes, and a lead’s adjudication.' },
  {
    name: 'trials',
    description: 'Approach trials: stratified permuted-block allocation of the opening approach, fixed at first assignment.',
  },
  { name: 'assessments', description: 'Before/after assessments of a case on immutable templates of factors scored 0–3 or unknown.' },
  {
    name: 'welfare',
    description: 'Intervener welfare: exposure, topic opt-outs, debriefs and supervision; the person’s and their leads’ alone.',
  },
  { name: 'audit', description: 'The append-only, hash-chained audit log (admins).' },
  { name: 'admin', description: 'Operations for admins: running scheduled jobs now.' },
];

const PROBLEM = { $ref: '#/components/schemas/Problem' };

/** Parameters and headers every operation that needs them points at (one definition each). */
const COMPONENTS = {
  parameters: {
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a creating request safe to retry. A replay with the same key and body answers the first response (with `Idempotent-Replayed: true`); ' +
        'the same key with another body is 422 `idempotency.key_reused`; a replay while the first is still running is 409 `idempotency.in_flight`. ' +
        'Keys are scoped to your token and kept at least 24 hours. Any 1 to 255 visible ASCII characters: a UUID is a good choice.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[!-~]+$' },
      example: '0193a1f2-7c41-7d2e-9b55-2f1c8e6a4d10',
    },
    IfMatch: {
      name: 'If-Match',
      in: 'header',
      required: true,
      description:
        'The `ETag` you read. `*` matches any version, a comma-separated list any of its tags; tags compare strongly (`W/"v3"` never matches). ' +
        'Without it: 428 `precondition.required`; when the resource changed since: 412 `precondition.failed` (read it again).',
      schema: { type: 'string' },
      example: '"v3"',
    },
  },
  headers: {
    ETag: {
      description: 'The version of the resource as a strong entity-tag: send it as `If-Match` on the next PATCH.',
      required: true,
      schema: { type: 'string', example: '"v3"' },
    },
    RetryAfter: {
      description: 'Seconds to wait before trying again.',
      required: false,
      schema: { type: 'integer', minimum: 1, example: 5 },
    },
    IdempotentReplayed: {
      description: 'Present on a response replayed for a repeated `Idempotency-Key`.',
      required: false,
      schema: { type: 'string', enum: ['true'] },
    },
    WWWAuthenticate: { description: 'The authentication scheme to use.', required: true, schema: { type: 'string', example: 'Bearer' } },
  },
};

type Json = Record<string, unknown>;
interface Response {
  description?: string;
  headers?: Json;
  content?: Record<string, { schema?: unknown }>;
}
interface Operation extends Json {
  parameters?: { name?: string; in?: string; $ref?: string }[];
  responses: Record<string, Response>;
}

/** The fallback name of a route missing from OPERATIONS (a test fails on it): `postCasesIdTouchpoints`. */
function derivedOperationId(key: string): string {
  const words = key
    .replace(/[/:{}-]+/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== 'v1');
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function whoMayCall(route: RouteEntry | undefined): string {
  if (!route || route.auth === 'own') return '';
  return route.auth === 'public' ? '\n\nNo token needed.' : `\n\nWho may call: ${route.auth.join(', ')}.`;
}

/**
 * The generated document, described: each operation's name, summary and description from
 * OPERATIONS, the headers it takes and returns (Idempotency-Key, If-Match, ETag, Retry-After),
 * and the 503 any route may answer while the database is unreachable or the server drains.
 */
export function describeDocument(generated: Json, routes: readonly RouteEntry[], version: string): Json {
  const doc = structuredClone(generated);
  doc['info'] = { ...(doc['info'] as Json), version };
  const components = (doc['components'] ?? {}) as Json;
  doc['components'] = { ...components, parameters: COMPONENTS.parameters, headers: COMPONENTS.headers };
  const paths = doc['paths'] as Record<string, Record<string, Operation>>;
  for (const [p, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const url = p.replace(/\{(\w+)\}/g, ':$1');
      const key = `${method.toUpperCase()} ${url}`;
      const entry = OPERATIONS[key];
      const { operationId: _id, summary, description: _d, tags, ...rest } = op;
      const parameters = (rest.parameters ?? []).filter(
        (param) => !(param.in === 'header' && /^(if-match|idempotency-key)$/i.test(param.name ?? '')),
      );
      if (entry?.ifMatch) parameters.push({ $ref: '#/components/parameters/IfMatch' });
      if (entry?.idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
      if (parameters.length > 0) rest.parameters = parameters;
      else delete rest.parameters;
      for (const [status, response] of Object.entries(rest.responses)) {
        if (!response.description || response.description === 'Default Response')
          response.description = STATUS_CODES[Number(status)] ?? 'Response';
        const headers: Json = { ...response.headers };
        if (status.startsWith('2') && entry?.etag && status !== '204') headers['ETag'] = { $ref: '#/components/headers/ETag' };
        if (status.startsWith('2') && entry?.idempotent)
          headers['Idempotent-Replayed'] = { $ref: '#/components/headers/IdempotentReplayed' };
        if (status === '429' || status === '503') headers['Retry-After'] = { $ref: '#/components/headers/RetryAfter' };
        if (status === '401') headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWWAuthenticate' };
        if (Object.keys(headers).length > 0) response.headers = headers;
      }
      // Any route answers 503 while the database is unreachable or the server is shutting down.
      const unavailable = rest.responses['503'] ?? { description: STATUS_CODES[503]!, content: {} };
      unavailable.content = { ...unavailable.content, 'application/problem+json': { schema: PROBLEM } };
      unavailable.headers = { ...unavailable.headers, 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };
      rest.responses['503'] = unavailable;
      ops[method] = {
        operationId: entry?.operationId ?? derivedOperationId(key),
        summary: entry?.summary ?? summary ?? key,
        ...(entry
          ? { description: entry.description + whoMayCall(routes.find((r) => r.method === method.toUpperCase() && r.url === url)) }
          : {}),
        ...(tags ? { tags } : {}),
        ...rest,
      };
    }
  }
  return doc;
}

export default fp(async function openapi(app: FastifyInstance) {
  const version = PACKAGE_VERSION;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Overture API',
        version,
        description:
          'Caseload and workflow service for peer-to-peer counter-extremism outreach. Overture never contacts anyone: ' +
          'people send every message outside the system; Overture records what happened and reminds staff.\n\n' +
          'Authenticate with `Authorization: Bearer ovt_…` (a personal access token). Errors are RFC 9457 `application/problem+json` with a stable `code`. ' +
          'Lists take `limit` (1–200) and `cursor`, and answer `{ items, nextCursor }`. Creating POSTs accept `Idempotency-Key`; ' +
          'PATCH needs `If-Match` with the `ETag` you read. Every response carries `X-Request-Id`.',
        license: { name: 'AGPL-3.0-or-later', identifier: 'AGPL-3.0-or-later' },
      },
      servers: [{ url: '/' }],
      tags: TAGS,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Personal access token `ovt_…`' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => describeDocument(jsonSchemaTransformObject(input) as Json, app.routeTable, version) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: false } });
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());
});
