import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/staff/principal.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { ok } from '../helpers/story.js';
import { problemDefects, World } from '../helpers/world.js';
import { actingRole, expected, ROUTE_POLICIES, type RoutePolicy, routeKey } from './route-policies.js';

let t: TestApp;
let w: World;
let openapi: { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> };

beforeAll(async () => {
  t = await createTestApp();
  w = await World.create(t);
  openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => t.close());

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[] };

const past = '2020-01-01T00:00:00.000Z';
/** Fields a client must never set, with values an attacker would pick. */
const PROTECTED: () => Record<string, unknown> = () => ({
  id: randomUUID(),
  programId: w.otherProgramId,
  status: 'active',
  stage: 'sustained',
  assigneeId: w.people.intervener.id,
  version: 999,
  createdAt: past,
  updatedAt: past,
  hash: 'f'.repeat(64),
  prevHash: '0'.repeat(64),
  erased: false,
  erasedAt: null,
  acceptedAt: past,
  approvedAt: past,
  contactedAt: past,
  respondedAt: past,
  sustainedAt: past,
  lastTouchpointAt: past,
  closedAt: null,
  completedAt: past,
  readAt: past,
  loggedBy: w.people.admin.id,
  raisedBy: w.people.admin.id,
  acknowledgedBy: w.people.lead.id,
  acknowledgedAt: past,
  role: 'admin',
  active: true,
  isAdmin: true,
  staffId: w.people.admin.id,
  caseId: randomUUID(),
  tokenHash: 'a'.repeat(64),
  token: 'ovt_' + 'A'.repeat(43),
  revokedAt: null,
  webhookSecret: 'whsec_attacker',
  outcome: 'positive_change',
  handleHash: 'b'.repeat(64),
  // Computed: a literal `__proto__:` would set the prototype instead of adding a key.
  ['__proto__']: { role: 'admin', isAdmin: true },
  constructor: { prototype: { role: 'admin' } },
  prototype: { role: 'admin' },
});
/** Injected inside nested objects of the body (profile, settings, indicators). */
const NESTED = ['id', 'version', 'createdAt', 'erasedAt', 'handle', 'platform', 'open', 'webhookSecret', '__proto__'];

/** Serialised by hand: JSON.stringify would drop `__proto__` and reorder nothing else. */
function withFields(body: Record<string, unknown>, extra: [string, unknown][]): string {
  const entries = [...extra, ...Object.entries(body)].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{${entries.join(',')}}`;
}

function propsOf(schema: JsonSchema | undefined): Set<string> {
  if (!schema) return new Set();
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  if (alternatives.length) return new Set(alternatives.flatMap((s) => [...propsOf(s)]));
  if (schema.items) return propsOf(schema.items);
  return new Set(Object.keys(schema.properties ?? {}));
}

function bodySchema(p: RoutePolicy): JsonSchema | undefined {
  const openapiPath = p.url.replace(/:(\w+)/g, '{$1}');
  return openapi.paths[openapiPath]?.[p.method.toLowerCase()]?.requestBody?.content['application/json']?.schema;
}

const childOf = (schema: JsonSchema | undefined, key: string): JsonSchema | undefined => {
  if (!schema) return undefined;
  for (const s of [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) if (s.properties?.[key]) return s.properties[key];
  return undefined;
};

/** Every table a write could touch; api_tokens without last_used_at (touched by any authenticated call). */
const TABLES = [
  'programs',
  'staff',
  'cases',
  'profiles',
  'case_events',
  'assignments',
  'touchpoints',
  'follow_ups',
  'safeguarding_concerns',
  'notifications',
  'suppression_list',
  'idempotency_keys',
  '(select id, staff_id, label, token_hash, revoked_at from api_tokens)',
];
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await t.db.pool.query<{ n: number; h: string | null }>(
      `select count(*)::int as n, md5(string_agg(x::text, '|' order by x::text)) as h from ${table} x`,
    );
    out[table] = `${rows[0]!.n}:${rows[0]!.h}`;
  }
  return out;
}

/** Some actions need a case in a particular state for the valid body to succeed. */
const SETUP: Record<string, () => Promise<{ role: Role; target: string }>> = {
  'POST /v1/cases/:id/approve': async () => {
    const id = await w.flagged();
    await ok(t, w.people.lead, 'POST', `/v1/cases/${id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    return { role: 'lead', target: id };
  },
  'POST /v1/cases/:id/reopen': async () => {
    const id = await w.active(w.people.intervener);
    await ok(t, w.people.lead, 'POST', `/v1/cases/${id}/close`, { outcome: 'other' });
    return { role: 'lead', target: id };
  },
};

const WRITES = ROUTE_POLICIES.filter(
  (p) => (p.method === 'POST' || p.method === 'PATCH') && !p.board && p.url !== '/v1/admin/jobs/:name/run',
);

/** Bodies carrying a key JavaScript treats specially. */
const PROTOTYPE_KEYS = /"(__proto__|constructor)"\s*:\s*\{/;
/** Prototype-key attempts answered with another code than request.invalid. */
const prototypeCodes: string[] = [];

describe('mass assignment: a valid body plus any protected field is refused whole, and nothing changes', () => {
  it('covers every write route with a body', () => {
    expect(WRITES.map(routeKey)).toContain('POST /admin/queues/login');
    expect(WRITES.length).toBeGreaterThanOrEqual(22);
    expect(Object.keys(PROTECTED()).length).toBeGreaterThanOrEqual(20);
  });

  for (const p of WRITES) {
    it(routeKey(p), async () => {
      const setup = SETUP[routeKey(p)];
      const role = setup ? (await setup()).role : actingRole(p);
      if (!role) throw new Error(`no role succeeds on ${routeKey(p)}: give it a SETUP`);
      const target = setup ? (await setup()).target : p.target ? await w.target(p.target, role, 'own', true) : '';
      const caller = w.people[role];
      const spec = p.request({ w, role, caller, target });
      const valid = (spec.payload ?? {}) as Record<string, unknown>;
      const headers: Record<string, string> = { ...caller.auth, 'content-type': 'application/json', ...spec.headers };
      if (p.ifMatch) {
        const { rows } = await t.db.pool.query<{ version: number }>(
          `select version from ${p.ifMatch === 'case' ? 'cases' : 'programs'} where id = $1`,
          [target],
        );
        headers['if-match'] = `"v${rows[0]!.version}"`;
      }
      const schema = bodySchema(p);
      const allowed = schema ? propsOf(schema) : new Set(Object.keys(valid));
      const fields = Object.entries(PROTECTED()).filter(([k]) => !allowed.has(k));
      expect(fields.length).toBeGreaterThanOrEqual(20);

      const attempts: { what: string; payload: string; field?: string }[] = [
        { what: 'all protected fields at once', payload: withFields(valid, fields) },
        ...fields.map(([k, v]) => ({ what: k, payload: withFields(valid, [[k, v]]), field: k })),
      ];
      for (const [key, value] of Object.entries(valid)) {
        const inner = Array.isArray(value) ? value[0] : value;
        if (!inner || typeof inner !== 'object') continue;
        const innerAllowed = propsOf(childOf(schema, key));
        for (const n of NESTED.filter((k) => !innerAllowed.has(k))) {
          const injected = JSON.parse(withFields(inner as Record<string, unknown>, [[n, n === '__proto__' ? { role: 'admin' } : 'x']]));
          attempts.push({
            what: `${key}.${n}`,
            payload: JSON.stringify({ ...valid, [key]: Array.isArray(value) ? [injected, ...value.slice(1)] : injected }),
            field: n,
          });
        }
      }

      const before = await snapshot();
      const failures: string[] = [];
      for (const a of attempts) {
        const res = await t.app.inject({ method: p.method, url: spec.url, headers, payload: a.payload });
        if (res.statusCode !== 400) {
          failures.push(`${a.what}: want 400, got ${res.statusCode} ${res.body.slice(0, 120)}`);
          continue;
        }
        const defects = problemDefects(res);
        if (defects.length) failures.push(`${a.what}: ${defects.join(', ')}`);
        const problem = res.json() as { code: string; detail: string; errors?: unknown[] };
        if (problem.code !== 'request.invalid') {
          // Prototype keys are checked for their code in the test below; here only that they are refused.
          if (!PROTOTYPE_KEYS.test(a.payload)) failures.push(`${a.what}: code ${problem.code}`);
          else prototypeCodes.push(`${routeKey(p)} ${a.what}: ${problem.code} "${problem.detail}"`);
        } else if (a.field && !JSON.stringify(problem.errors ?? problem.detail).includes(a.field)) {
          failures.push(`${a.what}: the problem does not name the field: ${JSON.stringify(problem.errors)}`);
        }
        if (res.headers['set-cookie']) failures.push(`${a.what}: set a cookie`);
      }
      expect(failures).toEqual([]);
      expect(await snapshot()).toEqual(before);

      // The control: the same body without the extra fields succeeds, so the 400s were about them alone.
      const control = await t.app.inject({ method: p.method, url: spec.url, headers, payload: JSON.stringify(valid) });
      const want = setup ? 200 : expected(p, role, 'own')!;
      expect(control.statusCode, control.body).toBe(want);
    });
  }

  it('POST /v1/admin/jobs/:name/run takes no body: one with fields is refused, not ignored', async () => {
    const queue = t.queues.queue('maintenance');
    const before = await queue.getJobCounts();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/jobs/reconcile/run?wait=false',
      headers: { ...w.people.admin.auth, 'content-type': 'application/json' },
      payload: withFields(
        {},
        Object.entries(PROTECTED()).filter(([k]) => !k.startsWith('__') && k !== 'constructor'),
      ),
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('request.invalid');
    expect(await queue.getJobCounts()).toEqual(before);
  });

  // Runs last (vitest keeps the order): the routes above collected what they saw.
  it('prototype keys (`__proto__`, `constructor`) are refused like any other unknown field: request.invalid naming the key', () => {
    expect(prototypeCodes.length === 0 ? [] : [`${prototypeCodes.length} attempts, e.g. ${prototypeCodes[0]}`]).toEqual([]);
  });
});
