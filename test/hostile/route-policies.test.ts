import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { type RouteTable, routeTableOf } from '../helpers/world.js';
import { allowedRoles, ROUTE_POLICIES, routeKey } from './route-policies.js';

let t: TestApp;
let table: RouteTable;

beforeAll(async () => {
  t = await createTestApp();
  table = routeTableOf(t.app);
});
afterAll(() => t.close());

const sameAuth = (a: RouteTable[number]['auth'], b: RouteTable[number]['auth']) =>
  typeof a === 'string' || typeof b === 'string' ? a === b : [...a].sort().join() === [...b].sort().join();

describe('the route policy table covers app.routeTable exactly', () => {
  it('app.routeTable is on the root instance, as its type declares', () => {
    // auth.ts decorates the encapsulated app plugin's instance, so `server.routeTable` is undefined.
    expect(Array.isArray(t.app.routeTable)).toBe(true);
  });

  it('has no duplicate entries', () => {
    const keys = ROUTE_POLICIES.map(routeKey);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('every registered route has a policy (a new route without one fails here)', () => {
    const known = new Set(ROUTE_POLICIES.map(routeKey));
    expect(table.filter((r) => !known.has(routeKey(r))).map(routeKey)).toEqual([]);
  });

  it('every policy names a registered route', () => {
    const registered = new Set(table.map(routeKey));
    expect(ROUTE_POLICIES.filter((p) => !p.optional && !registered.has(routeKey(p))).map(routeKey)).toEqual([]);
  });

  it('routeTable records the auth policy each route enforces', () => {
    const wrong = table.flatMap((r) => {
      const p = ROUTE_POLICIES.find((x) => routeKey(x) === routeKey(r));
      return p && !sameAuth(p.auth, r.auth)
        ? [`${routeKey(r)}: routeTable ${JSON.stringify(r.auth)}, enforced ${JSON.stringify(p.auth)}`]
        : [];
    });
    expect(wrong).toEqual([]);
  });

  it("each policy's statuses agree with its auth (403 exactly for the roles it leaves out)", () => {
    const wrong = ROUTE_POLICIES.flatMap((p) => {
      const allowed = allowedRoles(p).sort().join();
      const want =
        p.auth === 'public' ? 'admin,analyst,dpo,evaluator,intervener,lead' : p.auth === 'own' ? 'admin' : [...p.auth].sort().join();
      return allowed === want ? [] : [`${routeKey(p)}: statuses allow ${allowed}, auth ${want}`];
    });
    expect(wrong).toEqual([]);
  });
});
