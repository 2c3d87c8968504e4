import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/domain/staff/principal.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call } from './helpers/story.js';
import type { Relation } from './helpers/world.js';

interface CaseRoute {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: (ctx: { otherIntervenerId: string }) => unknown;
  /** Roles the route is for; every other role gets 403. */
  roles: Role[];
  /** Status for an allowed role on an active case in its scope. */
  ok: number;
  /** Changes the case: each allowed, in-scope call gets a fresh case. */
  mutates?: boolean;
}

const now = () => new Date().toISOString();
const ROUTES: CaseRoute[] = [
  { method: 'GET', path: '', roles: ['lead', 'analyst', 'intervener'], ok: 200 },
  { method: 'PATCH', path: '', roles: ['lead', 'analyst', 'intervener'], ok: 200, body: () => ({ riskLevel: 'high' }), mutates: true },
  { method: 'POST', path: '/triage', roles: ['analyst', 'lead'], ok: 409, body: () => ({ decision: 'accept', reason: 'r' }) },
  { method: 'POST', path: '/approve', roles: ['lead'], ok: 409, body: () => ({}) },
  { method: 'POST', path: '/assignment', roles: ['lead'], ok: 200, body: (c) => ({ intervenerId: c.otherIntervenerId }), mutates: true },
  { method: 'POST', path: '/close', roles: ['lead', 'intervener'], ok: 200, body: () => ({ outcome: 'other' }), mutates: true },
  { method: 'POST', path: '/reopen', roles: ['lead'], ok: 409, body: () => ({ reason: 'r' }) },
  { method: 'GET', path: '/candidates', roles: ['lead'], ok: 200 },
  { method: 'GET', path: '/events', roles: ['lead'], ok: 200 },
  { method: 'GET', path: '/touchpoints', roles: ['lead', 'analyst', 'intervener'], ok: 200 },
  {
    method: 'POST',
    path: '/touchpoints',
    roles: ['lead', 'intervener'],
    ok: 201,
    body: () => ({ direction: 'inbound', channel: 'comment', occurredAt: now() }),
    mutates: true,
  },
];

let t: TestApp;
let programId: string;
let people: Record<Role, Who>;
let otherIntervener: Who;
let spareIntervener: Who;
let otherLead: Who;
let otherProgramId: string;
let otherProgramIntervener: Who;

beforeAll(async () => {
  t = await createTestApp();
  const mine = await cast(t, {
    admin: 'admin',
    lead: 'lead',
    analyst: 'analyst',
    intervener: 'intervener',
    evaluator: 'evaluator',
    otherIntervener: 'intervener',
    spareIntervener: { role: 'intervener', maxCaseload: 100 },
    dpo: 'dpo',
  });
  ({ programId, otherIntervener, spareIntervener } = mine);
  people = {
    admin: mine.admin,
    lead: mine.lead,
    analyst: mine.analyst,
    intervener: mine.intervener,
    evaluator: mine.evaluator,
    dpo: mine.dpo,
  };
  ({
    programId: otherProgramId,
    otherLead,
    otherProgramIntervener,
  } = await cast(t, { otherLead: 'lead', otherProgramIntervener: 'intervener' }));
});
afterAll(() => t.close());

/** An active case standing in the given relation to the caller. */
async function caseFor(relation: Relation): Promise<string> {
  switch (relation) {
    case 'own':
      return (await activeCase(t, people.lead, programId, people.intervener.id)).id;
    case 'otherIntervener':
      return (await activeCase(t, people.lead, programId, otherIntervener.id)).id;
    case 'otherProgram':
      return (await activeCase(t, otherLead, otherProgramId, otherProgramIntervener.id)).id;
    case 'missing':
      return crypto.randomUUID();
  }
}

function expected(route: CaseRoute, role: Role, relation: Relation): number {
  // An evaluator sees no case at all: every case route is 404, never a 403 that would confirm it exists.
  if (role === 'evaluator' || role === 'dpo') return 404;
  if (!route.roles.includes(role)) return 403;
  if (relation === 'missing' || relation === 'otherProgram') return 404;
  if (role === 'analyst') return 404; // active cases are past triage: out of an analyst's scope
  if (role === 'intervener' && relation === 'otherIntervener') return 404;
  return route.ok;
}

describe('every role × every case route × every relation', () => {
  const relations: Relation[] = ['own', 'otherIntervener', 'otherProgram', 'missing'];
  const shared = new Map<Relation, string>();

  for (const route of ROUTES) {
    it(`${route.method} /v1/cases/{id}${route.path}`, async () => {
      const failures: string[] = [];
      for (const role of Object.keys(people) as Role[]) {
        for (const relation of relations) {
          const want = expected(route, role, relation);
          let id: string;
          if (route.mutates && want < 300) id = await caseFor(relation);
          else {
            if (!shared.has(relation)) shared.set(relation, await caseFor(relation));
            id = shared.get(relation)!;
          }
          const headers: Record<string, string> = {};
          if (route.method === 'PATCH') {
            const current = await call(t, people.lead, 'GET', `/v1/cases/${id}`);
            headers['if-match'] = String(current.headers.etag ?? '"v1"');
          }
          const res = await call(
            t,
            people[role],
            route.method,
            `/v1/cases/${id}${route.path}`,
            route.body?.({ otherIntervenerId: spareIntervener.id }),
            headers,
          );
          if (res.statusCode !== want) failures.push(`${role}/${relation}: want ${want}, got ${res.statusCode} ${res.body.slice(0, 120)}`);
          if (res.statusCode === 404) expect(res.json().code).toMatch(/not_found$/);
          // Never another program's data, whatever the status.
          if (relation === 'otherProgram') expect(res.body).not.toContain(otherProgramIntervener.id);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
