import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { call, ok } from './helpers/story.js';

// API.md, Programs: GET /v1/programs/{id}/settings-history, and the settings version a program carries.
type History = {
  items: { version: number; changedAt: string; changedBy: string | null; changes: Record<string, { from: unknown; to: unknown }> }[];
};

describe('program settings history', () => {
  let t: TestApp;
  let admin: Who;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin', null);
  });
  afterAll(() => t.close());

  it('records the creation as version 1 and each change with what it was and who made it, newest first', async () => {
    const p = await ok<{ id: string; version: number; settingsVersion: number }>(t, admin, 'POST', '/v1/programs', {
      name: 'History pilot',
      settings: { followUpAfter: 'P2D' },
    });
    expect(p.settingsVersion).toBe(1);
    const { lead } = await cast(t, { lead: 'lead' });
    const leadOfP = await t.staff('lead', p.id);
    const renamed = await call(t, leadOfP, 'PATCH', `/v1/programs/${p.id}`, { name: 'Renamed' }, { 'if-match': `"v${p.version}"` });
    expect(renamed.statusCode).toBe(200);
    // A rename is not a settings change.
    expect(renamed.json().settingsVersion).toBe(1);
    const changed = await ok<{ version: number; settingsVersion: number }>(
      t,
      leadOfP,
      'PATCH',
      `/v1/programs/${p.id}`,
      { settings: { followUpAfter: 'P5D', minCellSize: 3 } },
      { 'if-match': renamed.headers['etag'] as string },
    );
    expect(changed.settingsVersion).toBe(2);
    // The same values again change nothing.
    const same = await ok<{ settingsVersion: number }>(
      t,
      leadOfP,
      'PATCH',
      `/v1/programs/${p.id}`,
      { settings: { minCellSize: 3 } },
      {
        'if-match': `"v${changed.version}"`,
      },
    );
    expect(same.settingsVersion).toBe(2);
    const history = await ok<History>(t, leadOfP, 'GET', `/v1/programs/${p.id}/settings-history`);
    expect(history.items.map((i) => i.version)).toEqual([2, 1]);
    expect(history.items[0]!.changes).toEqual({ followUpAfter: { from: 'P2D', to: 'P5D' }, minCellSize: { from: 5, to: 3 } });
    expect(history.items[0]!.changedBy).toBe(leadOfP.id);
    expect(history.items[1]!.changes).toEqual({ followUpAfter: { from: 'P3D', to: 'P2D' } });
    expect(history.items[1]!.changedBy).toBe(admin.id);
    expect((await ok<History>(t, admin, 'GET', `/v1/programs/${p.id}/settings-history`)).items).toHaveLength(2);
    // Another program's lead: 404; other roles: 403.
    expect((await call(t, lead, 'GET', `/v1/programs/${p.id}/settings-history`)).statusCode).toBe(404);
    const analyst = await t.staff('analyst', p.id);
    expect((await call(t, analyst, 'GET', `/v1/programs/${p.id}/settings-history`)).statusCode).toBe(403);
  });

  it('a refused change (stale If-Match) records nothing', async () => {
    const p = await ok<{ id: string; version: number }>(t, admin, 'POST', '/v1/programs', { name: 'Stale' });
    const res = await call(t, admin, 'PATCH', `/v1/programs/${p.id}`, { settings: { minCellSize: 2 } }, { 'if-match': '"v99"' });
    expect(res.statusCode).toBe(412);
    const bad = await call(t, admin, 'PATCH', `/v1/programs/${p.id}`, { settings: { minCellSize: 0 } }, { 'if-match': `"v${p.version}"` });
    expect(bad.statusCode).toBe(400);
    expect((await ok<History>(t, admin, 'GET', `/v1/programs/${p.id}/settings-history`)).items.map((i) => i.version)).toEqual([1]);
  });
});
