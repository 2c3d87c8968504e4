import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocument, DOCUMENT_PATH, renderDocument } from '../scripts/openapi.js';
import { OPERATIONS } from '../src/http/operations.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

/**
 * The committed openapi.json is what clients are generated from: it must be current, be the
 * document the server serves, name and describe every operation from src/http/operations.ts, and
 * declare the headers the server really takes and sends.
 */

type Json = Record<string, unknown>;
interface Param {
  $ref?: string;
  name?: string;
  in?: string;
  schema?: Json;
  example?: unknown;
}
interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  parameters?: Param[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: Json }> }>;
}
interface Doc {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; parameters: Record<string, Json>; headers: Record<string, Json> };
}

const committedText = readFileSync(DOCUMENT_PATH, 'utf8');
const doc = JSON.parse(committedText) as Doc;
/** `METHOD /v1/cases/:id` → operation, as OPERATIONS keys them. */
const operations = new Map<string, Operation>(
  Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`, op] as const),
  ),
);
const declares = (op: Operation, parameter: string) => (op.parameters ?? []).some((p) => p.$ref === `#/components/parameters/${parameter}`);
const keysWhere = (test: (op: Operation) => boolean) =>
  [...operations]
    .filter(([, op]) => test(op))
    .map(([k]) => k)
    .sort();

describe('the committed openapi.json', () => {
  it('is current: regenerating it changes nothing (run `npm run openapi` when this fails)', async () => {
    const fresh = renderDocument(await buildDocument());
    if (fresh !== committedText) {
      const a = committedText.split('\n');
      const b = fresh.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `openapi.json is stale: run \`npm run openapi\` and commit openapi.json and clients/typescript/src/schema.d.ts.\n` +
          `first difference at line ${line + 1}:\n  committed: ${a[line]}\n  generated: ${b[line]}`,
      );
    }
  }, 60_000);

  it('validates as OpenAPI 3.1 with @seriousme/openapi-schema-validator', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('carries the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
  });
});

describe('every operation is named and described from src/http/operations.ts', () => {
  it('has an entry for every documented route, and no entry without a route', () => {
    const documented = [...operations.keys()];
    expect(
      documented.filter((k) => !OPERATIONS[k]),
      'add these routes to src/http/operations.ts',
    ).toEqual([]);
    expect(
      Object.keys(OPERATIONS).filter((k) => !operations.has(k)),
      'these entries of src/http/operations.ts match no route',
    ).toEqual([]);
  });

  it('uses the entry: a unique camelCase operationId, a one-line summary, a description saying who may call', () => {
    const ids = [...operations.values()].map((op) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const [key, op] of operations) {
      const entry = OPERATIONS[key]!;
      expect(op.operationId, key).toBe(entry.operationId);
      expect(op.operationId, key).toMatch(/^[a-z]+(?:[A-Z][a-z]*)*$/);
      expect(op.summary, key).toBe(entry.summary);
      expect(op.summary, key).not.toMatch(/\n|^(GET|POST|PUT|PATCH|DELETE) \//);
      expect(op.summary.length, key).toBeLessThanOrEqual(80);
      expect(op.description, key).toMatch(
        new RegExp(`^${entry.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n\\n(Who may call: [a-z, ]+|No token needed)\\.$`),
      );
    }
  });

  it('names operations for what they do', () => {
    expect(operations.get('POST /v1/cases')?.operationId).toBe('createCase');
    expect(operations.get('GET /v1/follow-ups')?.operationId).toBe('listFollowUps');
    expect(operations.get('POST /v1/cases/:id/touchpoints')?.operationId).toBe('logTouchpoint');
    expect(operations.get('POST /v1/cases/:id/triage')?.operationId).toBe('triageCase');
    expect(operations.get('POST /v1/cases/:id/assignment')?.operationId).toBe('assignCase');
    expect(operations.get('POST /v1/cases/:id/touchpoints')?.description).toMatch(/Who may call: lead, intervener\.$/);
  });
});

describe('headers are declared', () => {
  it('Idempotency-Key on exactly the creating POSTs (those answering 201)', () => {
    expect(keysWhere((op) => declares(op, 'IdempotencyKey'))).toEqual(keysWhere((op) => '201' in op.responses));
    expect(keysWhere((op) => declares(op, 'IdempotencyKey'))).toEqual([
      'POST /v1/cases',
      'POST /v1/cases/:id/assessments',
      'POST /v1/cases/:id/follow-ups',
      'POST /v1/cases/:id/holds',
      'POST /v1/cases/:id/notes',
      'POST /v1/cases/:id/outcome-adjudication',
      'POST /v1/cases/:id/outcome-reviews',
      'POST /v1/cases/:id/referrals',
      'POST /v1/cases/:id/safeguarding',
      'POST /v1/cases/:id/touchpoints',
      'POST /v1/dsr',
      'POST /v1/me/time',
      'POST /v1/programs',
      'POST /v1/programs/:id/assessment-templates',
      'POST /v1/programs/:id/outreach-accounts',
      'POST /v1/programs/:id/trials',
      'POST /v1/reports/snapshots',
      'POST /v1/staff',
      'POST /v1/staff/:id/absences',
      'POST /v1/staff/:id/supervision-sessions',
      'POST /v1/staff/:id/tokens',
    ]);
    expect(doc.components.parameters['IdempotencyKey']).toMatchObject({ name: 'Idempotency-Key', in: 'header', required: false });
    for (const key of keysWhere((op) => declares(op, 'IdempotencyKey'))) {
      expect(operations.get(key)!.responses['201']!.headers?.['Idempotent-Replayed'], key).toEqual({
        $ref: '#/components/headers/IdempotentReplayed',
      });
    }
  });

  it('If-Match, required, on the PATCHes of cases and programs, with their 412 and 428', () => {
    expect(keysWhere((op) => declares(op, 'IfMatch'))).toEqual(['PATCH /v1/cases/:id', 'PATCH /v1/programs/:id']);
    expect(doc.components.parameters['IfMatch']).toMatchObject({ name: 'If-Match', in: 'header', required: true });
    for (const key of keysWhere((op) => declares(op, 'IfMatch'))) {
      const op = operations.get(key)!;
      expect(Object.keys(op.responses), key).toEqual(expect.arrayContaining(['412', '428']));
      // The header is declared once, under its canonical name.
      expect(
        (op.parameters ?? []).filter((p) => p.in === 'header' && /if-match/i.test(p.name ?? '')),
        key,
      ).toEqual([]);
    }
  });

  it('ETag on the single-resource GETs and PATCHes of cases and programs, and on case actions', () => {
    const withEtag = keysWhere((op) => Object.values(op.responses).some((r) => r.headers?.['ETag']));
    expect(withEtag).toEqual(
      expect.arrayContaining(['GET /v1/cases/:id', 'PATCH /v1/cases/:id', 'GET /v1/programs/:id', 'PATCH /v1/programs/:id']),
    );
    expect(
      withEtag.filter(
        (k) => !/^(GET|PATCH) \/v1\/(cases|programs)\/:id$|^POST \/v1\/cases\/:id\/(triage|approve|assignment|close|reopen|erase)$/.test(k),
      ),
    ).toEqual([]);
  });

  it('Retry-After on every 429 and 503, and a 503 on every operation', () => {
    const missing: string[] = [];
    for (const [key, op] of operations) {
      if (!op.responses['503']) missing.push(`${key}: no 503`);
      for (const status of ['429', '503']) {
        const r = op.responses[status];
        if (r && r.headers?.['Retry-After']?.$ref !== '#/components/headers/RetryAfter') missing.push(`${key} ${status}: no Retry-After`);
      }
    }
    expect(missing).toEqual([]);
    expect(keysWhere((op) => '429' in op.responses)).toHaveLength(operations.size);
  });
});

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** Validates against any schema of the document, `$ref`s resolved against its components. */
function validator() {
  const ID = 'urn:overture:openapi-document';
  const rewrite = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(rewrite);
    if (!s || typeof s !== 'object') return s;
    return Object.fromEntries(
      Object.entries(s).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${ID}#/$defs/`) : rewrite(v),
      ]),
    );
  };
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  ajv.addVocabulary(['example']);
  ajv.addSchema({ $id: ID, $defs: rewrite(doc.components.schemas) as object });
  return (schema: Json, value: unknown) => {
    const check = ajv.compile(rewrite(schema) as object);
    return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/** Every `example` anywhere in the document, with where it is. */
function examplesIn(node: unknown, at = ''): [string, unknown][] {
  if (Array.isArray(node)) return node.flatMap((v, i) => examplesIn(v, `${at}/${i}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k === 'example' ? [[at, v] as [string, unknown]] : examplesIn(v, `${at}/${k}`)));
}

describe('schemas and examples', () => {
  it('emits rate intervals as arrays of exactly two numbers, never prefixItems tuples', () => {
    expect(committedText).not.toContain('prefixItems');
    const row = ((doc.components.schemas['EngagementReport']!['properties'] as Json)['rows'] as Json)['items'] as {
      properties: Record<string, { anyOf: Json[] }>;
    };
    const rate = row.properties['responseRate']!.anyOf[0] as { properties: Record<string, Json> };
    expect(rate.properties['ci95']).toMatchObject({ type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' } });
  });

  it('gives every JSON request body an example its own schema accepts', () => {
    const validate = validator();
    const wrong: string[] = [];
    for (const [key, op] of operations) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!schema) continue;
      // A body that may be left out is anyOf [object, null]: the example is on the object.
      const body = (schema['anyOf'] as Json[] | undefined)?.find((s) => s['type'] === 'object') ?? schema;
      if (Object.keys((body['properties'] as Json | undefined) ?? {}).length === 0) continue;
      if (body['example'] === undefined) wrong.push(`${key}: no example`);
      else wrong.push(...validate(schema, body['example']).map((e) => `${key}: ${e}`));
    }
    expect(wrong).toEqual([]);
  });

  it('gives every path parameter an example, and times examples of this era (no year 2807)', () => {
    const noExample = [...operations].flatMap(([key, op]) =>
      (op.parameters ?? []).filter((p) => p.in === 'path' && p.schema?.['example'] === undefined).map((p) => `${key} ${p.name}`),
    );
    expect(noExample).toEqual([]);
    const times = examplesIn(doc).flatMap(([at, v]) => (typeof v === 'string' && /^\d{4}-\d\d-\d\d/.test(v) ? [[at, v] as const] : []));
    expect(times.length).toBeGreaterThan(10);
    expect(times.filter(([, v]) => !(Date.parse(v) >= Date.UTC(2026, 0, 1) && Date.parse(v) < Date.UTC(2028, 0, 1)))).toEqual([]);
    // Swagger UI invents a value from a time's pattern (the year 2807) unless it has an example.
    const untimed: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      const n = node as Json;
      if (n['format'] === 'date-time' && n['example'] === undefined) untimed.push(at);
      for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`);
    };
    walk(doc, '');
    expect(untimed).toEqual([]);
  });
});

describe('the server does what the headers say', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('serves exactly the committed document', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.json()).toEqual(doc);
  });

  it('replays every operation that declares Idempotency-Key (a secret-bearing one refuses instead)', async () => {
    const admin = await t.staff('admin', null);
    const exercised = new Set<string>();
    /** The same request twice with one key: the second answers the first response, marked replayed. */
    const twice = async (key: string, who: { auth: { authorization: string } }, url: string, body: unknown) => {
      const idempotencyKey = `doc-${crypto.randomUUID()}`;
      const first = await call(t, who, 'POST', url, body, { 'idempotency-key': idempotencyKey });
      expect(first.statusCode, `${key}: ${first.body}`).toBe(201);
      const again = await call(t, who, 'POST', url, body, { 'idempotency-key': idempotencyKey });
      exercised.add(key);
      return { first, again };
    };
    const replayed = async (key: string, who: { auth: { authorization: string } }, url: string, body: unknown) => {
      const { first, again } = await twice(key, who, url, body);
      expect(again.statusCode, key).toBe(201);
      expect(again.headers['idempotent-replayed'], key).toBe('true');
      expect(again.json(), key).toEqual(first.json());
      return first.json() as { id: string };
    };

    const program = await replayed('POST /v1/programs', admin, '/v1/programs', { name: 'Idempotent program' });
    const lead = await replayed('POST /v1/staff', admin, '/v1/staff', { programId: program.id, name: 'Lee Lead', role: 'lead' });
    const sam = await ok<{ id: string }>(t, admin, 'POST', '/v1/staff', { programId: program.id, name: 'Sam', role: 'intervener' });
    const tokens = await twice('POST /v1/staff/:id/tokens', admin, `/v1/staff/${lead.id}/tokens`, { label: 'laptop' });
    expectProblem(tokens.again, 409, 'idempotency.secret_not_replayed');
    const asLead = { auth: { authorization: `Bearer ${(tokens.first.json() as { token: string }).token}` } };
    const samToken = await ok<{ token: string }>(t, admin, 'POST', `/v1/staff/${sam.id}/tokens`, { label: 'phone' });
    const asSam = { auth: { authorization: `Bearer ${samToken.token}` } };

    const c = await replayed(
      'POST /v1/cases',
      asLead,
      '/v1/cases',
      flagBody(program.id, { flaggedAt: new Date(Date.now() - 3_600_000).toISOString() }),
    );
    await ok(t, asLead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    await ok(t, asLead, 'POST', `/v1/cases/${c.id}/approve`, {});
    await ok(t, asLead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: sam.id });
    const occurredAt = new Date(Date.now() - 60_000).toISOString();
    await replayed('POST /v1/cases/:id/touchpoints', asSam, `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt,
    });
    const dueAt = new Date(Date.now() + 86_400_000).toISOString();
    await replayed('POST /v1/cases/:id/follow-ups', asSam, `/v1/cases/${c.id}/follow-ups`, { dueAt, kind: 'check_in' });
    await replayed('POST /v1/cases/:id/safeguarding', asSam, `/v1/cases/${c.id}/safeguarding`, {
      severity: 'high',
      concern: 'Talked about a march',
    });
    await replayed('POST /v1/cases/:id/notes', asSam, `/v1/cases/${c.id}/notes`, {
      kind: 'general',
      body: 'Wants time',
      visibility: 'case',
    });
    const template = await replayed(
      'POST /v1/programs/:id/assessment-templates',
      asLead,
      `/v1/programs/${program.id}/assessment-templates`,
      {
        name: 'Vulnerability review',
        factors: [{ key: 'isolation', label: 'Isolation' }],
      },
    );
    await replayed('POST /v1/cases/:id/assessments', asSam, `/v1/cases/${c.id}/assessments`, {
      templateId: template.id,
      phase: 'baseline',
      scores: { isolation: 2 },
    });
    await replayed('POST /v1/programs/:id/trials', asLead, `/v1/programs/${program.id}/trials`, {
      name: 'Idempotent trial',
      arms: ['empathetic', 'questioning'],
    });
    // Outcome review in a program that reviews with two coders: two disagreeing reviews, then an adjudication; a snapshot.
    const reviewed = await ok<{ id: string }>(t, admin, 'POST', '/v1/programs', {
      name: 'Reviewed',
      settings: { outcomeReview: 'required', secondCoderRate: 1 },
    });
    const rLead = await t.staff('lead', reviewed.id);
    const holder = await t.staff('intervener', reviewed.id);
    const peer = await t.staff('intervener', reviewed.id);
    const rAnalyst = await t.staff('analyst', reviewed.id);
    const rc = await activeCase(t, rLead, reviewed.id, holder.id);
    await ok(t, rLead, 'POST', `/v1/cases/${rc.id}/close`, { outcome: 'other' });
    await replayed('POST /v1/cases/:id/outcome-reviews', peer, `/v1/cases/${rc.id}/outcome-reviews`, {
      outcome: 'other',
      signals: ['none'],
      confidence: 'low',
    });
    await ok(t, rAnalyst, 'POST', `/v1/cases/${rc.id}/outcome-reviews`, { outcome: 'referred', signals: ['none'], confidence: 'low' });
    await replayed('POST /v1/cases/:id/outcome-adjudication', rLead, `/v1/cases/${rc.id}/outcome-adjudication`, {
      outcome: 'referred',
      signals: ['none'],
      note: 'settled',
    });
    await replayed('POST /v1/reports/snapshots', rLead, '/v1/reports/snapshots', {
      report: 'engagement',
      params: { programId: reviewed.id, from: '2020-01-01', to: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) },
    });
    const from = new Date(Date.now() + 86_400_000);
    await replayed('POST /v1/staff/:id/absences', asLead, `/v1/staff/${sam.id}/absences`, {
      from: from.toISOString(),
      to: new Date(from.getTime() + 3_600_000).toISOString(),
    });
    await replayed('POST /v1/me/time', asSam, '/v1/me/time', { at: new Date().toISOString(), minutes: 20, activity: 'reading' });
    await replayed('POST /v1/staff/:id/supervision-sessions', asLead, `/v1/staff/${sam.id}/supervision-sessions`, {
      at: new Date(Date.now() - 60_000).toISOString(),
      minutes: 45,
      format: 'group',
    });
    await replayed('POST /v1/cases/:id/referrals', asSam, `/v1/cases/${c.id}/referrals`, { to: 'helpline', consent: 'given' });
    await replayed('POST /v1/cases/:id/holds', asLead, `/v1/cases/${c.id}/holds`, { reason: 'complaint' });
    await replayed('POST /v1/programs/:id/outreach-accounts', asLead, `/v1/programs/${program.id}/outreach-accounts`, {
      platform: 'x',
      label: 'Programme account',
      disclosure: 'organisation',
    });
    await replayed('POST /v1/dsr', asLead, '/v1/dsr', {
      programId: program.id,
      type: 'access',
      profile: { platform: 'x', handle: '@someone_asking' },
      receivedAt: new Date(Date.now() - 60_000).toISOString(),
    });

    expect([...exercised].sort()).toEqual(keysWhere((op) => declares(op, 'IdempotencyKey')));
  });

  it('answers an ETag wherever one is declared, and If-Match guards the PATCHes as declared', async () => {
    const { admin, programId, lead, sam } = await cast(t, { admin: 'admin', lead: 'lead', sam: 'intervener' });
    const exercised = new Set<string>();
    const etagOf = async (
      key: string,
      method: 'GET' | 'POST' | 'PATCH',
      url: string,
      who = lead,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await call(t, who, method, url, body, headers);
      expect(res.statusCode, `${key}: ${res.body}`).toBe(200);
      expect(res.headers['etag'], key).toMatch(/^"v\d+"$/);
      exercised.add(key);
      return String(res.headers['etag']);
    };
    const guarded = async (key: string, url: string, who: typeof lead, body: unknown, current: string) => {
      expectProblem(await call(t, who, 'PATCH', url, body), 428, 'precondition.required');
      expectProblem(await call(t, who, 'PATCH', url, body, { 'if-match': '"v999"' }), 412, 'precondition.failed');
      return etagOf(key, 'PATCH', url, who, body, { 'if-match': current });
    };

    const programEtag = await etagOf('GET /v1/programs/:id', 'GET', `/v1/programs/${programId}`, admin);
    expect(await guarded('PATCH /v1/programs/:id', `/v1/programs/${programId}`, admin, { name: 'Renamed' }, programEtag)).not.toBe(
      programEtag,
    );

    const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId));
    const url = `/v1/cases/${c.id}`;
    await etagOf('POST /v1/cases/:id/triage', 'POST', `${url}/triage`, lead, { decision: 'accept', reason: 'meets criteria' });
    await etagOf('POST /v1/cases/:id/approve', 'POST', `${url}/approve`, lead, {});
    await etagOf('POST /v1/cases/:id/assignment', 'POST', `${url}/assignment`, lead, { intervenerId: sam.id });
    const caseEtag = await etagOf('GET /v1/cases/:id', 'GET', url);
    await guarded('PATCH /v1/cases/:id', url, lead, { riskLevel: 'high' }, caseEtag);
    await etagOf('POST /v1/cases/:id/close', 'POST', `${url}/close`, lead, { outcome: 'other', note: 'moved away' });
    await etagOf('POST /v1/cases/:id/reopen', 'POST', `${url}/reopen`, lead, { reason: 'back in touch' });
    await etagOf('POST /v1/cases/:id/erase', 'POST', `${url}/erase`, lead, { reason: 'erasure request' });

    const declared = keysWhere((op) => Object.values(op.responses).some((r) => r.headers?.['ETag']));
    expect([...exercised].sort()).toEqual(declared);
  });
});
