import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/staff/principal.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { bodyText, type JsonSchema, junk, plausible } from '../helpers/schema-arbitrary.js';
import { problemDefects, routeTableOf, World } from '../helpers/world.js';
import { actingRole, allowedRoles, ROUTE_POLICIES, type RoutePolicy, routeKey } from './route-policies.js';

/**
 * Every route gets random bodies shaped by its request schema (from /openapi.json), random query
 * strings and random headers, with a valid token of a role it allows. Whatever comes in: never a
 * 5xx, and every 4xx is a complete problem+json whose status field is the HTTP status.
 * FUZZ_SEED reproduces a run; FUZZ_SCALE multiplies the number of requests.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);
const RUNS = { api: Math.round(120 * SCALE), other: Math.round(25 * SCALE) };

interface Operation {
  parameters?: { in: string; name: string; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}
let t: TestApp;
let w: World;
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, JsonSchema> } };
let registered: Set<string>;
let requests = 0;
/** FUZZ_DEBUG=1 prints how many requests got which status and code per route: how deep the fuzzing got. */
const tally = new Map<string, number>();
const owned = new Map<string, string>();

beforeAll(async () => {
  t = await createTestApp();
  w = await World.create(t);
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  registered = new Set(routeTableOf(t.app).map(routeKey));
  // Every route's object first: fuzzing one route (say, a program's caseload cap) must not break the next one's fixtures.
  for (const p of ROUTE_POLICIES) if (p.target) owned.set(routeKey(p), await w.target(p.target, roleFor(p), 'own', true));
});
afterAll(async () => {
  if (process.env['FUZZ_DEBUG'])
    console.log(
      [...tally]
        .sort()
        .map(([k, n]) => `${n}\t${k}`)
        .join('\n'),
    );
  await t.close();
});

/** Inlines `#/components/schemas/…` references (the request schemas are not recursive). */
function deref(s: unknown, depth = 0): JsonSchema {
  if (Array.isArray(s)) return s.map((x) => deref(x, depth)) as never;
  if (!s || typeof s !== 'object') return s as JsonSchema;
  const ref = (s as JsonSchema).$ref;
  if (ref && depth < 8) return deref(doc.components.schemas[ref.replace('#/components/schemas/', '')], depth + 1);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, deref(v, depth)])) as JsonSchema;
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
/** Mixed in with plain application/json. */
const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json;;',
  'application/merge-patch+json',
  'application/problem+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '*/*',
  'json',
];
const headersArb = fc.record(
  {
    'content-type': fc.oneof(
      { weight: 3, arbitrary: fc.constant('application/json') },
      { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    ),
    'idempotency-key': fc.oneof(printable, fc.constantFrom('k1', 'k2', 'k3'), fc.constant('x'.repeat(300)), fc.constant('')),
    'if-match': fc.oneof(fc.constantFrom('"v1"', 'W/"v1"', '"v2"', '*', '"v99999999999"', '""', '"v-1"', '"v1", "v2"'), printable),
    'x-request-id': fc.oneof(printable, fc.constantFrom('req-12345678', 'x'.repeat(101), '../../x', 'ok.ok.ok.ok')),
    accept: fc.constantFrom('application/json', 'text/csv', 'text/html', '*/*', 'application/xml'),
  },
  { requiredKeys: ['content-type'] },
);

/** encodeURIComponent, with lone surrogates (which it refuses) made U+FFFD. */
const enc = (s: string) =>
  encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));

const RAW_QUERIES = [
  '%',
  '%zz',
  '&&&',
  '=',
  '==',
  'a[b]=1',
  'limit=1&limit=2',
  '__proto__[isAdmin]=1',
  'constructor[prototype][x]=1',
  'cursor=%00',
  'limit=1e3',
  'limit=-1',
  'limit=0x10',
  'limit= 5',
  'cursor=%ED%A0%80',
  'status=%C0%AF',
];

/** Query parameters whose schema says only "string" but whose values have a shape. */
const day = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.integer({ min: -400, max: 400 }).map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('0000-01-01', '1999-12-31', '2000-01-01', '2099-12-31', '2100-01-01', '9999-12-31', '2024-02-30'),
  },
);
const QUERY_HINTS: Record<string, fc.Arbitrary<string>> = {
  from: day,
  to: day,
  // An empty cursor is the first page; a well-formed one points after some id.
  cursor: fc.oneof(
    fc.constant(''),
    fc.uuid().map((id) => Buffer.from(JSON.stringify(id)).toString('base64url')),
  ),
};

function queryArb(params: { name: string; schema: JsonSchema }[], ids: string[]): fc.Arbitrary<string> {
  const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const known = params.map((p) => {
    const good = QUERY_HINTS[p.name] ?? plausible(p.schema, { ids, clean: true }).map(asText);
    const value = fc.oneof(
      { weight: 6, arbitrary: good },
      { weight: 1, arbitrary: plausible(p.schema, { ids }).map(asText) },
      { weight: 1, arbitrary: junk.map(asText) },
    );
    return fc.option(value, { nil: undefined }).map((v) => (v === undefined ? '' : `${enc(p.name)}=${enc(v.slice(0, 5000))}`));
  });
  const unknown = fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.tuple(printable, printable).map(([k, v]) => `${enc(k || 'x')}=${enc(v)}`) },
  );
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.tuple(...known), unknown).map(([k, u]) => [...k, u ?? ''].filter(Boolean).join('&')) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERIES) },
  );
}

const PARAM_VALUES: Record<string, string[]> = {
  name: ['reconcile', 'rollup', 'retention', 'no-contact-scan', 'supervision-scan', 'heartbeat'],
  queueName: ['maintenance', 'reminders', 'webhooks'],
  queueStatus: ['failed', 'completed', 'delayed', 'active', 'waiting'],
  jobId: ['1', 'j1', 'repeat:x'],
  schedulerId: ['heartbeat', 's1'],
  file: ['reports.js', 'reports.css', 'chart.umd.js', '..%2Fpackage.json'],
};

function pathArb(url: string, own: string): fc.Arbitrary<string> {
  const names = [...url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
  if (names.length === 0) return fc.constant(url);
  const segment = (name: string) =>
    fc.oneof(
      {
        weight: 6,
        arbitrary:
          name === 'id'
            ? fc.constant(own)
            : fc.constantFrom(...(PARAM_VALUES[name] ?? ['favicon-32x32.png', 'swagger-ui.css', 'index.html'])),
      },
      { weight: 2, arbitrary: fc.uuid() },
      {
        weight: 2,
        arbitrary: fc
          .oneof(printable, fc.constantFrom(...['..', '.', 'x'.repeat(250), own.toUpperCase(), `${own} `, '%00']))
          .map((s) => enc(s) || 'x'),
      },
      { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%2e%2e%2f%2e%2e%2f', '..%2F..%2F') },
    );
  return fc.tuple(...names.map(segment)).map((values) => {
    let i = 0;
    return url.replace(/:(\w+)|\*/g, () => values[i++]!);
  });
}

/** Request bodies of routes the document hides. */
const HIDDEN_BODIES: Record<string, JsonSchema> = {
  'POST /admin/queues/login': {
    type: 'object',
    properties: { token: { type: 'string', maxLength: 200 } },
    required: ['token'],
    additionalProperties: false,
  },
};

/** The role to fuzz with: one that succeeds on its own object if any, else any role the route allows. */
function roleFor(p: RoutePolicy): Role {
  return actingRole(p) ?? allowedRoles(p)[0] ?? 'lead';
}

describe(`fuzzing every route's inputs (seed ${SEED})`, () => {
  for (const p of ROUTE_POLICIES) {
    const api = !p.board && !p.url.startsWith('/docs') && !p.url.startsWith('/reports');
    it(`${routeKey(p)}`, async (ctx) => {
      if (p.optional && !registered.has(routeKey(p))) return ctx.skip();
      const role = roleFor(p);
      const caller = w.people[role];
      const own = owned.get(routeKey(p)) ?? '';
      const op = doc.paths[p.url.replace(/:(\w+)/g, '{$1}')]?.[p.method.toLowerCase()];
      const body = op?.requestBody?.content['application/json']?.schema ?? HIDDEN_BODIES[routeKey(p)];
      // wait=true holds the request until a worker finishes the job (none runs here): fuzz the other values.
      const params = (op?.parameters ?? [])
        .filter((x) => x.in === 'query')
        .map((x) => ({ name: x.name, schema: x.name === 'wait' ? { type: 'string', enum: ['false'] } : deref(x.schema) }));
      const ids = [own, w.programId, w.otherProgramId, w.people.intervener.id, w.spare.id, randomUUID()].filter((x) =>
        /^[0-9a-f-]{36}$/.test(x),
      );
      const sendsBody = p.method !== 'GET' && p.method !== 'DELETE';
      const seen = new Map<string, string>();

      await fc.assert(
        fc.asyncProperty(
          pathArb(p.url, own),
          queryArb(params, ids),
          sendsBody ? bodyText(body ? deref(body) : undefined, ids) : fc.constant(undefined),
          headersArb,
          async (path, query, payload, headers) => {
            const q = query.replace(/(^|&)wait=true(?=&|$)/g, '$1wait=false');
            const url = q ? `${path}?${q}` : path;
            let res: Awaited<ReturnType<TestApp['app']['inject']>>;
            try {
              res = await t.app.inject({
                method: p.method,
                url,
                headers: { ...headers, ...caller.auth },
                ...(payload !== undefined ? { payload } : {}),
              });
            } catch (err) {
              // light-my-request refused to build the request (a client-side limit): nothing reached the server.
              if (err instanceof TypeError || (err as { code?: string }).code?.startsWith('ERR_')) return true;
              throw err;
            }
            requests++;
            const code = /"code":"([^"]+)"/.exec(res.body)?.[1];
            if (process.env['FUZZ_DEBUG'])
              tally.set(
                `${routeKey(p)} ${res.statusCode} ${code ?? ''}`,
                (tally.get(`${routeKey(p)} ${res.statusCode} ${code ?? ''}`) ?? 0) + 1,
              );
            const where = `${p.method} ${url.slice(0, 150)} ${JSON.stringify(headers)} body=${String(payload).slice(0, 150)}`;
            let problem: string | undefined;
            if (res.statusCode >= 500) problem = `${res.statusCode} ${res.body.slice(0, 200)}`;
            // Bull Board answers its own 4xx (unknown queue, refused static path) in its own format; only 5xx count there.
            else if (res.statusCode >= 400 && !p.board) {
              const defects = problemDefects(res);
              if (defects.length) problem = `${res.statusCode} not a valid problem (${defects.join(', ')}): ${res.body.slice(0, 200)}`;
            }
            if (problem) {
              // One example per kind of failure is enough to act on.
              const kind = `${res.statusCode} ${code ?? res.headers['content-type']}`;
              if (!seen.has(kind)) seen.set(kind, `${routeKey(p)}: ${problem} ← ${where}`);
            }
            return true;
          },
        ),
        { numRuns: api ? RUNS.api : RUNS.other, seed: SEED, endOnFailure: true },
      );
      expect([...seen.values()]).toEqual([]);
    });
  }

  it('sent thousands of requests', () => {
    expect(requests).toBeGreaterThan(2000);
  });
});
