import { spawnSync } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens } from '../src/db/schema/index.js';
import { AUTH_CACHE_MS, authenticate, forgetPrincipals, hashToken } from '../src/domain/staff/tokens.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';

let t: TestApp;
let admin: Who;
let programId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, admin } = await cast(t, { admin: 'admin' }));
});
afterAll(() => t.close());

describe('authentication', () => {
  it('answers 401 problem+json without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me' });
    expectProblem(res, 401, 'auth.unauthorized');
  });

  it.each([
    ['Basic abc', 'wrong scheme'],
    ['Bearer', 'empty'],
    ['Bearer ovt_short', 'malformed'],
    ['Bearer xyz_0123456789abcdef0123456789abcdef0123', 'wrong prefix'],
    [`Bearer ovt_${'A'.repeat(43)}`, 'unknown'],
  ])('answers 401 for %s (%s)', async (authorization) => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization } });
    expectProblem(res, 401, 'auth.unauthorized');
  });

  it('GET /v1/me describes the caller', async () => {
    const lead = await t.staff('lead', programId);
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: lead.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: lead.id, name: expect.any(String), role: 'lead', programId });
  });

  it('stores tokens only as a keyed hash and records last use', async () => {
    const s = await t.staff('analyst', programId);
    const rows = await t.db.db.select().from(apiTokens).where(eq(apiTokens.staffId, s.id));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(s.token);
    expect(rows[0]!.tokenHash).toBe(hashToken('test-secret-0123456789abcdef0123456789abcdef', s.token));
    await t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth });
    const [after] = await t.db.db.select().from(apiTokens).where(eq(apiTokens.staffId, s.id));
    expect(after!.lastUsedAt).toBeInstanceOf(Date);
  });

  it('a revoked token stops working at once', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/staff/${admin.id}/tokens`,
      headers: admin.auth,
      payload: { label: 'laptop' },
    });
    expect(res.statusCode).toBe(201);
    const { id, token } = res.json();
    expect(token).toMatch(/^ovt_[A-Za-z0-9_-]{32,}$/);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: admin.auth });
    expect(del.statusCode).toBe(204);
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } }), 401);
    expectProblem(
      await t.app.inject({ method: 'DELETE', url: `/v1/tokens/${crypto.randomUUID()}`, headers: admin.auth }),
      404,
      'token.not_found',
    );
  });

  it('deactivating staff stops their tokens at once', async () => {
    const s = await t.staff('intervener', programId);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth })).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'PATCH', url: `/v1/staff/${s.id}`, headers: admin.auth, payload: { active: false } });
    expect(res.statusCode).toBe(200);
    expect(res.json().active).toBe(false);
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth }), 401);
  });

  it('a revocation by another process (here: straight in the database) is honoured within AUTH_CACHE_MS', async () => {
    const s = await t.staff('intervener', programId);
    const me = () => t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth });
    const remembered = Date.now();
    expect((await me()).statusCode).toBe(200);
    await t.db.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.staffId, s.id));
    // This process remembered the token a moment ago and has not heard of the change (unless this
    // machine took longer than AUTH_CACHE_MS to get here) ...
    const second = await me();
    if (Date.now() - remembered < AUTH_CACHE_MS) expect(second.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, AUTH_CACHE_MS + 100));
    // ... and looks it up again once the entry is AUTH_CACHE_MS old.
    expectProblem(await me(), 401);
    expectProblem(await me(), 401);
  });

  it('does not remember what it read while staff or tokens changed', async () => {
    const s = await t.staff('intervener', programId);
    const reading = authenticate(t.db.db, TEST_SECRET, s.token);
    forgetPrincipals(); // a change lands while the lookup is in flight
    expect(await reading).toBeDefined();
    await t.db.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.staffId, s.id));
    expect(await authenticate(t.db.db, TEST_SECRET, s.token)).toBeUndefined();
  });

  it('never remembers a refused token', async () => {
    const s = await t.staff('intervener', programId);
    await t.db.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.staffId, s.id));
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth }), 401);
    await t.db.db.update(apiTokens).set({ revokedAt: null }).where(eq(apiTokens.staffId, s.id));
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth })).statusCode).toBe(200);
  });

  it('a token hashed under another deployment secret is refused', async () => {
    const s = await t.staff('lead', programId);
    await t.db.db
      .update(apiTokens)
      .set({ tokenHash: hashToken('another-deployment-secret-0123456789abcdef', s.token) })
      .where(eq(apiTokens.staffId, s.id));
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me', headers: s.auth }), 401);
  });

  it('answers 403 when the role may never do this', async () => {
    for (const role of ['lead', 'analyst', 'intervener'] as const) {
      const s = await t.staff(role, programId);
      expectProblem(
        await t.app.inject({ method: 'POST', url: '/v1/programs', headers: s.auth, payload: { name: 'x' } }),
        403,
        'auth.forbidden',
      );
      expectProblem(
        await t.app.inject({ method: 'POST', url: '/v1/staff', headers: s.auth, payload: { name: 'x', role: 'lead', programId } }),
        403,
      );
    }
    const analyst = await t.staff('analyst', programId);
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/staff', headers: analyst.auth }), 403);
  });

  it('the CLI prints a working token for an existing staff member, and refuses a deactivated one', async () => {
    const s = await t.staff('lead', programId);
    const run = (id: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'token', 'create', '--staff', id, '--label', 'ops'], {
        env: { ...process.env, DATABASE_URL: t.db.url, OVERTURE_SECRET: TEST_SECRET },
        encoding: 'utf8',
      });
    const res = run(s.id);
    expect(res.status).toBe(0);
    const token = /token (ovt_\S+)/.exec(res.stdout)![1]!;
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toMatchObject({ id: s.id, role: 'lead' });
    await t.app.inject({ method: 'PATCH', url: `/v1/staff/${s.id}`, headers: admin.auth, payload: { active: false } });
    const refused = run(s.id);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('deactivated');
  });

  it('checks auth before validating the body', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/programs', payload: { bogus: true } });
    expectProblem(res, 401);
  });
});
