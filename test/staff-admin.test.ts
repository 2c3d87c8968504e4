import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';

const activeAdmins = async (t: TestApp) =>
  (await t.db.pool.query<{ id: string }>(`select id from staff where role = 'admin' and active order by id`)).rows.map((r) => r.id);

const setActive = (t: TestApp, caller: Who, id: string, active: boolean) =>
  t.app.inject({ method: 'PATCH', url: `/v1/staff/${id}`, headers: caller.auth, payload: { active } });

describe('the last active admin cannot be deactivated', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('refuses the only admin deactivating themself (409 staff.last_admin), and nothing changes', async () => {
    const only = await t.staff('admin', null);
    expect(await activeAdmins(t)).toEqual([only.id]);
    expectProblem(await setActive(t, only, only.id, false), 409, 'staff.last_admin');
    expect(await activeAdmins(t)).toEqual([only.id]);
    expect((await t.app.inject({ url: '/v1/me', headers: only.auth })).statusCode).toBe(200);
    // Other changes to the same admin, and `active: true`, are fine.
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: `/v1/staff/${only.id}`,
          headers: only.auth,
          payload: { name: 'Only admin', active: true },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('lets an admin deactivate themself while another active admin exists, then not the other', async () => {
    const [first] = await activeAdmins(t);
    const second = await t.staff('admin', null);
    const res = await setActive(t, second, second.id, false);
    expect(res.statusCode).toBe(200);
    expect(res.json().active).toBe(false);
    // Their token stops at once.
    expectProblem(await t.app.inject({ url: '/v1/me', headers: second.auth }), 401, 'auth.unauthorized');
    expect(await activeAdmins(t)).toEqual([first]);
    const third = await t.staff('admin', null);
    // An admin may deactivate another admin; then the one left is the last.
    expect((await setActive(t, third, first!, false)).statusCode).toBe(200);
    expectProblem(await setActive(t, third, third.id, false), 409, 'staff.last_admin');
    // Deactivating an admin who is already inactive changes nothing and is allowed.
    expect((await setActive(t, third, second.id, false)).statusCode).toBe(200);
    // Reactivating one makes room again.
    expect((await setActive(t, third, first!, true)).statusCode).toBe(200);
    expect((await setActive(t, third, third.id, false)).statusCode).toBe(200);
    expect(await activeAdmins(t)).toEqual([first]);
  });

  it('does not stop deactivating other roles', async () => {
    const { admin, lead } = await cast(t, { admin: 'admin', lead: 'lead' });
    expect((await setActive(t, admin, lead.id, false)).statusCode).toBe(200);
  });

  it('a role change cannot go round it: PATCH takes no role', async () => {
    const admin = await t.staff('admin', null);
    expectProblem(
      await t.app.inject({ method: 'PATCH', url: `/v1/staff/${admin.id}`, headers: admin.auth, payload: { role: 'lead' } }),
      400,
      'request.invalid',
    );
  });
});

describe('deactivating the last two admins at once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('exactly one of two concurrent deactivations succeeds, round after round', async () => {
    let survivor = await t.staff('admin', null);
    for (let round = 0; round < 10; round++) {
      const other = await t.staff('admin', null);
      expect(await activeAdmins(t)).toHaveLength(2);
      // Each deactivates themself: both stay authenticated until their own change commits.
      const [a, b] = await Promise.all([setActive(t, survivor, survivor.id, false), setActive(t, other, other.id, false)]);
      const statuses = [a!.statusCode, b!.statusCode].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = a!.statusCode === 409 ? a! : b!;
      expectProblem(loser, 409, 'staff.last_admin');
      const left = await activeAdmins(t);
      expect(left).toHaveLength(1);
      survivor = left[0] === survivor.id ? survivor : other;
    }
  });
});
