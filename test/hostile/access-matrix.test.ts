import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/staff/principal.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

import { leaked, problemDefects, RELATIONS, type Relation, ROLES, routeTableOf, secretsFor, World } from '../helpers/world.js';
import { expected, ROUTE_POLICIES, type RoutePolicy, routeKey } from './route-policies.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let t: TestApp;
let w: World;
let registered: Set<string>;

beforeAll(async () => {
  t = await createTestApp();
  w = await World.create(t);
  registered = new Set(routeTableOf(t.app).map(routeKey));
});
afterAll(() => t.close());

/** The ETag a careful client would have read (straight from the row: a GET would add audit entries). */
async function etagOf(kind: 'case' | 'program', id: string): Promise<string> {
  const table = kind === 'case' ? 'cases' : 'programs';
  const { rows } = await t.db.pool.query<{ version: number }>(`select version from ${table} where id::text = $1`, [id]);
  return `"v${rows[0]?.version ?? 1}"`;
}

async function check(p: RoutePolicy, role: Role, relation: Relation, want: number): Promise<string[]> {
  const fresh = p.mutates === true && want < 300;
  const target = p.target ? await w.target(p.target, role, relation, fresh) : '';
  const caller = w.people[role];
  const spec = p.request({ w, role, caller, target });
  const headers: Record<string, string> = { ...caller.auth, ...spec.headers };
  if (p.ifMatch) headers['if-match'] = await etagOf(p.ifMatch, target);
  const res = await t.app.inject({
    method: p.method,
    url: spec.url,
    headers,
    ...(spec.payload !== undefined ? { payload: spec.payload as object } : {}),
  });
  const where = `${role}/${relation}`;
  const failures: string[] = [];
  if (res.statusCode !== want) failures.push(`${where}: want ${want}, got ${res.statusCode} ${res.body.slice(0, 160)}`);
  if (res.statusCode >= 400 && (!p.board || res.statusCode <= 403)) {
    const defects = problemDefects(res);
    if (defects.length) failures.push(`${where}: ${res.statusCode} is not a valid problem: ${defects.join(', ')}`);
  }
  if (res.statusCode === 404 && !p.board && !String(res.json().code).endsWith('not_found'))
    failures.push(`${where}: 404 with code ${res.json().code}`);
  // Peer review lists closed cases by id (never by identity) to peers who never held them: ids are fine there, handles never.
  const secrets = p.peerReview ? [...secretsFor(w, role)].filter((x) => !UUID.test(x) || w.foreign.has(x)) : secretsFor(w, role);
  const leaks = leaked(res.body, secrets, spec.url + JSON.stringify(spec.payload ?? null));
  if (leaks.length)
    failures.push(`${where}: response shows ${leaks.length} thing(s) out of scope, e.g. ${leaks[0]}: ${res.body.slice(0, 200)}`);
  return failures;
}

describe('every route × every role × {own, another intervener’s, another program’s, missing}', () => {
  for (const p of ROUTE_POLICIES) {
    it(routeKey(p), async (ctx) => {
      if (p.optional && !registered.has(routeKey(p))) return ctx.skip();
      const failures: string[] = [];
      for (const role of ROLES) {
        for (const relation of p.target ? RELATIONS : (['own'] as const)) {
          const want = expected(p, role, relation);
          if (want !== null) failures.push(...(await check(p, role, relation, want)));
        }
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('lists and inboxes after the matrix ran', () => {
  // By now both programs hold cases in every state, follow-ups, concerns and notifications.
  const lists = [
    '/v1/cases?limit=200',
    '/v1/follow-ups?limit=200',
    '/v1/safeguarding?limit=200',
    '/v1/me/notifications?limit=200',
    '/v1/staff?limit=200',
    '/v1/programs?limit=200',
    '/v1/me/caseload',
    '/v1/audit?limit=200',
  ];
  for (const role of ROLES) {
    it(`${role}: no list shows anything out of scope`, async () => {
      const failures: string[] = [];
      for (const url of lists) {
        const res = await t.app.inject({ method: 'GET', url, headers: w.people[role].auth });
        if (res.statusCode !== 200 && res.statusCode !== 403) failures.push(`${url}: ${res.statusCode}`);
        const leaks = leaked(res.body, secretsFor(w, role), url);
        if (leaks.length) failures.push(`${url}: shows ${leaks.join(', ').slice(0, 200)}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it('the fixtures really were built (the leak checks had something to find)', () => {
    expect(w.foreign.size).toBeGreaterThan(10);
    expect(w.contents.size).toBeGreaterThan(10);
    expect(w.otherCaseload.size).toBeGreaterThan(2);
  });
});

describe('references to another program inside bodies, filters and idempotency keys', () => {
  const items = (body: string) => (JSON.parse(body) as { items: unknown[] }).items;

  it('a lead cannot assign a case to another program’s intervener', async () => {
    const id = await w.active(w.people.intervener);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${id}/assignment`,
      headers: w.people.lead.auth,
      payload: { intervenerId: w.other.intervener.id },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('assignment.unknown_intervener');
  });

  it('filters naming another program’s objects find nothing', async () => {
    const otherCase = await w.target('case', 'lead', 'otherProgram', false);
    const probes: [Role, string][] = [
      ['lead', `/v1/staff?programId=${w.otherProgramId}`],
      ['lead', `/v1/cases?assigneeId=${w.other.intervener.id}`],
      ['lead', `/v1/follow-ups?caseId=${otherCase}`],
      ['lead', `/v1/follow-ups?assigneeId=${w.other.intervener.id}`],
      ['intervener', `/v1/follow-ups?assigneeId=${w.otherIntervener.id}`],
      ['intervener', `/v1/cases?assigneeId=${w.otherIntervener.id}`],
      ['analyst', '/v1/cases?status=active'],
    ];
    const failures: string[] = [];
    for (const [role, url] of probes) {
      const res = await t.app.inject({ method: 'GET', url, headers: w.people[role].auth });
      if (res.statusCode !== 200 || items(res.body).length !== 0)
        failures.push(`${role} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });

  it('an intervener loses a case the moment it is reassigned or closed', async () => {
    const me = w.people.intervener;
    const reassigned = await w.active(me);
    const closed = await w.active(me);
    for (const id of [reassigned, closed])
      expect((await t.app.inject({ method: 'GET', url: `/v1/cases/${id}`, headers: me.auth })).statusCode).toBe(200);
    await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${reassigned}/assignment`,
      headers: w.people.lead.auth,
      payload: { intervenerId: w.spare.id },
    });
    await t.app.inject({ method: 'POST', url: `/v1/cases/${closed}/close`, headers: w.people.lead.auth, payload: { outcome: 'other' } });
    const failures: string[] = [];
    for (const id of [reassigned, closed]) {
      for (const [method, url, payload] of [
        ['GET', `/v1/cases/${id}`],
        ['GET', `/v1/cases/${id}/touchpoints`],
        ['POST', `/v1/cases/${id}/touchpoints`, { direction: 'inbound', channel: 'comment', occurredAt: new Date().toISOString() }],
        ['POST', `/v1/cases/${id}/follow-ups`, { dueAt: new Date(Date.now() + 86_400_000).toISOString(), kind: 'check_in' }],
        ['POST', `/v1/cases/${id}/safeguarding`, { severity: 'high', concern: 'x' }],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: me.auth, ...(payload ? { payload } : {}) });
        if (res.statusCode !== 404) failures.push(`${method} ${url}: ${res.statusCode}`);
      }
      for (const url of ['/v1/cases', '/v1/me/caseload', '/v1/follow-ups', '/v1/safeguarding']) {
        const res = await t.app.inject({ method: 'GET', url, headers: me.auth });
        if (res.body.includes(id)) failures.push(`${url} still lists ${id}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('an Idempotency-Key another token used replays nothing of theirs', async () => {
    const { body } = w.flagBody(w.otherProgramId);
    const key = `shared-${Date.now()}`;
    const theirs = await t.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { ...w.other.lead.auth, 'idempotency-key': key },
      payload: body,
    });
    expect(theirs.statusCode).toBe(201);
    w.foreign.add(theirs.json().id);
    // The same key and the very same body, from this program's lead: their program is not ours (404), not a replay.
    const mine = await t.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { ...w.people.lead.auth, 'idempotency-key': key },
      payload: body,
    });
    expect(mine.statusCode, mine.body).toBe(404);
    expect(mine.headers['idempotent-replayed']).toBeUndefined();
    expect(leaked(mine.body, [theirs.json().id], '')).toEqual([]);
  });
});
