import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens } from '../../src/db/schema/index.js';
import { uuidv7 } from '../../src/db/ids.js';
import type { Role } from '../../src/domain/staff/principal.js';
import { createToken, generateToken, hashToken } from '../../src/domain/staff/tokens.js';
import { createTestApp, TEST_SECRET, type TestApp } from '../helpers/app.js';
import { cast, type Who } from '../helpers/cast.js';
import { call, ok } from '../helpers/story.js';
import { problemDefects, type RouteTable, routeTableOf } from '../helpers/world.js';
import { isPublic, policyOf, routeKey } from './route-policies.js';

let t: TestApp;
let admin: Who;
let routes: RouteTable;
/** Per role: a token that was revoked, one whose holder was deactivated, one hashed under another deployment's secret. */
const dead: Record<'revoked' | 'deactivated' | 'foreignSecret', Record<Role, string>> = {
  revoked: {},
  deactivated: {},
  foreignSecret: {},
} as never;
let validAdmin: string;

beforeAll(async () => {
  t = await createTestApp();
  const team = await cast(t, { admin: 'admin' });
  admin = team.admin;
  validAdmin = admin.token;
  for (const role of ['admin', 'lead', 'analyst', 'intervener'] as const) {
    const pid = role === 'admin' ? null : team.programId;
    const a = await t.staff(role, pid);
    const { id: tokenId, token } = await createToken(t.db.db, TEST_SECRET, a.id, 'to revoke');
    expect((await call(t, admin, 'DELETE', `/v1/tokens/${tokenId}`)).statusCode).toBe(204);
    dead.revoked[role] = token;

    const b = await t.staff(role, pid);
    await ok(t, admin, 'PATCH', `/v1/staff/${b.id}`, { active: false });
    dead.deactivated[role] = b.token;

    // A row as another deployment (another OVERTURE_SECRET) would have written it.
    const c = await t.staff(role, pid);
    const foreign = generateToken();
    await t.db.db.insert(apiTokens).values({
      id: uuidv7(),
      staffId: c.id,
      label: 'elsewhere',
      tokenHash: hashToken('another-deployment-secret-0123456789abcdef', foreign),
    });
    dead.foreignSecret[role] = foreign;
  }
  routes = routeTableOf(t.app).filter((r) => {
    const p = policyOf(r.method, r.url);
    return !(p ? isPublic(p) : r.auth === 'public');
  });
});
afterAll(() => t.close());

/** Path parameters filled with something that would be found if the caller were allowed. */
function urlOf(url: string): string {
  return url
    .replace(':id', randomUUID())
    .replace(':name', 'reconcile')
    .replace(':queueName', 'maintenance')
    .replace(':jobId', 'j1')
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 's1')
    .replace('*', 'favicon-32x32.png');
}

/** The role a route is for: the bad token then fails on authentication, never on the role. */
function roleFor(r: RouteTable[number]): Role {
  return Array.isArray(r.auth) ? (r.auth[0] as Role) : 'admin';
}

interface Variant {
  name: string;
  headers: (r: RouteTable[number]) => Record<string, string>;
  query?: (r: RouteTable[number]) => string;
}

const long = (n: number) => 'A'.repeat(n);
const VARIANTS: Variant[] = [
  { name: 'no Authorization header', headers: () => ({}) },
  { name: '`Bearer` alone', headers: () => ({ authorization: 'Bearer' }) },
  { name: '`Bearer ` with an empty token', headers: () => ({ authorization: 'Bearer ' }) },
  { name: '`Bearer  x` (two spaces)', headers: () => ({ authorization: 'Bearer  x' }) },
  { name: 'Basic credentials', headers: () => ({ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }) },
  { name: 'the admin token under the Basic scheme', headers: () => ({ authorization: `Basic ${validAdmin}` }) },
  { name: 'the admin token with no scheme', headers: () => ({ authorization: validAdmin }) },
  { name: 'lowercase `bearer` with a garbage token', headers: () => ({ authorization: 'bearer garbage' }) },
  { name: 'a well-formed token nobody was given', headers: () => ({ authorization: `Bearer ${generateToken()}` }) },
  { name: 'wrong prefix (ovx_ instead of ovt_)', headers: () => ({ authorization: `Bearer ${validAdmin.replace(/^ovt_/, 'ovx_')}` }) },
  { name: 'the admin token minus its last character', headers: () => ({ authorization: `Bearer ${validAdmin.slice(0, -1)}` }) },
  { name: 'the admin token plus a character', headers: () => ({ authorization: `Bearer ${validAdmin}A` }) },
  { name: 'the admin token followed by a second word', headers: () => ({ authorization: `Bearer ${validAdmin} ${validAdmin}` }) },
  { name: 'a very long token (16 KB, token-shaped)', headers: () => ({ authorization: `Bearer ovt_${long(16_000)}` }) },
  { name: 'a very long header (64 KB of junk)', headers: () => ({ authorization: `Bearer ${'x'.repeat(64_000)}` }) },
  { name: 'a revoked token', headers: (r) => ({ authorization: `Bearer ${dead.revoked[roleFor(r)]}` }) },
  { name: "a deactivated holder's token", headers: (r) => ({ authorization: `Bearer ${dead.deactivated[roleFor(r)]}` }) },
  {
    name: "a token hashed under another deployment's secret",
    headers: (r) => ({ authorization: `Bearer ${dead.foreignSecret[roleFor(r)]}` }),
  },
  { name: 'a valid token in the query string only', headers: () => ({}), query: () => `access_token=${validAdmin}` },
  { name: 'a valid token in a cookie only', headers: () => ({ cookie: `token=${validAdmin}; overture_token=${validAdmin}` }) },
];

/** Bull Board sends a browser without credentials to its sign-in page; anyone who sent an Authorization header gets 401. */
function expectedStatus(r: RouteTable[number], headers: Record<string, string>): number {
  const browserPage = r.auth === 'own' && r.method === 'GET' && !r.url.includes('/api/');
  return browserPage && headers['authorization'] === undefined ? 302 : 401;
}

describe('every non-public route refuses every bad credential with 401 problem+json', () => {
  it('there are non-public routes to check', () => {
    expect(routes.length).toBeGreaterThan(40);
  });

  for (const v of VARIANTS) {
    it(v.name, async () => {
      const failures: string[] = [];
      for (const r of routes) {
        const headers = v.headers(r);
        const query = v.query?.(r);
        const url = urlOf(r.url) + (query ? `?${query}` : '');
        const res = await t.app.inject({
          method: r.method as 'GET',
          url,
          headers,
          ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }),
        });
        const want = expectedStatus(r, headers);
        if (res.statusCode !== want) {
          failures.push(`${routeKey(r)}: want ${want}, got ${res.statusCode} ${res.body.slice(0, 100)}`);
          continue;
        }
        if (want === 302) {
          if (res.headers.location !== '/admin/queues/login') failures.push(`${routeKey(r)}: redirects to ${res.headers.location}`);
          continue;
        }
        const defects = problemDefects(res);
        if (defects.length) failures.push(`${routeKey(r)}: ${defects.join(', ')}`);
        else if (res.json().code !== 'auth.unauthorized') failures.push(`${routeKey(r)}: code ${res.json().code}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it('every 401 says how to authenticate (WWW-Authenticate: Bearer, RFC 9110 §11.6.1)', async () => {
    const failures = new Map<string, string[]>();
    for (const v of VARIANTS) {
      for (const r of routes) {
        const headers = v.headers(r);
        const res = await t.app.inject({
          method: r.method as 'GET',
          url: urlOf(r.url),
          headers,
          ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: {} }),
        });
        if (res.statusCode === 401 && !/^Bearer\b/i.test(String(res.headers['www-authenticate'] ?? ''))) {
          failures.set(v.name, [...(failures.get(v.name) ?? []), routeKey(r)]);
        }
      }
    }
    const summary = [...failures].map(([v, rs]) => `${v}: ${rs.length} routes, e.g. ${rs[0]}`);
    expect(summary).toEqual([]);
  });

  it('public routes answer whatever credentials come with them', async () => {
    const failures: string[] = [];
    const publicRoutes = routeTableOf(t.app).filter(
      (r) => r.method === 'GET' && (policyOf(r.method, r.url)?.auth ?? r.auth) === 'public' && !r.url.includes(':') && !r.url.includes('*'),
    );
    for (const r of publicRoutes) {
      for (const v of VARIANTS) {
        const res = await t.app.inject({ method: 'GET', url: r.url, headers: v.headers(r) });
        if (res.statusCode >= 400) failures.push(`${r.url} with ${v.name}: ${res.statusCode}`);
      }
    }
    expect(publicRoutes.length).toBeGreaterThan(5);
    expect(failures).toEqual([]);
  });

  it('the same credentials work when they are valid (the 401s are about the token, not the request)', async () => {
    const { lead } = await cast(t, { lead: 'lead' });
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${validAdmin}` } })).statusCode).toBe(200);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `bearer ${lead.token}` } })).statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: `Bearer ${validAdmin}` } }))
        .statusCode,
    ).toBe(200);
  });
});
