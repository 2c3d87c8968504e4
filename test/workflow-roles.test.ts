import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSITIONS } from '../src/domain/cases/workflow.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { type RouteTable, routeTableOf } from './helpers/world.js';

let t: TestApp;
let routes: RouteTable;
beforeAll(async () => {
  t = await createTestApp();
  routes = routeTableOf(t.app);
});
afterAll(() => t.close());

const authOf = (url: string) => routes.find((r) => r.method === 'POST' && r.url === url)?.auth;

describe('the workflow table decides who may take each case action', () => {
  it('gives each action route the roles of its transition', () => {
    expect(authOf('/v1/cases/:id/triage')).toEqual(TRANSITIONS.triage_accept.roles);
    expect(authOf('/v1/cases/:id/approve')).toEqual(TRANSITIONS.approve.roles);
    expect(authOf('/v1/cases/:id/assignment')).toEqual(TRANSITIONS.assign.roles);
    expect(authOf('/v1/cases/:id/close')).toEqual(TRANSITIONS.close.roles);
    expect(authOf('/v1/cases/:id/reopen')).toEqual(TRANSITIONS.reopen.roles);
  });

  it('lets the same roles accept and reject, since one triage route does both', () => {
    expect(TRANSITIONS.triage_reject.roles).toEqual(TRANSITIONS.triage_accept.roles);
  });
});
