import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRaw, fromRollups } from '../src/domain/reports/engagement.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';

// API.md: "Engagement reports gain `referred`" and "Reports accept groupBy=outreachAccount".
type Row = { group: string; flagged: number | null; contacted: number | null; referred: number | null };

describe('referred and groupBy=outreachAccount', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('counts cases with a referral and groups by the first outbound message’s account, from rollups and raw alike', async () => {
    const p = await cast(t, { lead: 'lead', sam: { role: 'intervener', maxCaseload: 20 } }, { minCellSize: 1 });
    const flaggedAt = new Date(Date.now() - 7_200_000).toISOString();
    const account = await ok<{ id: string }>(t, p.lead, 'POST', `/v1/programs/${p.programId}/outreach-accounts`, {
      platform: 'x',
      label: 'Programme account',
      disclosure: 'organisation',
    });
    const other = await ok<{ id: string }>(t, p.lead, 'POST', `/v1/programs/${p.programId}/outreach-accounts`, {
      platform: 'x',
      label: 'Named worker',
      disclosure: 'named_person',
    });
    const cases = [];
    for (let i = 0; i < 4; i++) cases.push(await activeCase(t, p.lead, p.programId, p.sam.id, { flaggedAt }));
    const out = (caseId: string, accountId?: string, minutes = 60) =>
      ok(t, p.sam, 'POST', `/v1/cases/${caseId}/touchpoints`, {
        direction: 'outbound',
        channel: 'direct_message',
        occurredAt: new Date(Date.now() - minutes * 60_000).toISOString(),
        ...(accountId ? { outreachAccountId: accountId } : {}),
      });
    // Case 0 and 1 first from `account`; case 2 first from `other` (a later message from `account` does not move it); case 3 no account.
    await out(cases[0]!.id, account.id);
    await out(cases[1]!.id, account.id);
    await out(cases[2]!.id, other.id, 60);
    await out(cases[2]!.id, account.id, 30);
    await out(cases[3]!.id);
    // Two referrals on case 0 count it once; one on case 2.
    await ok(t, p.sam, 'POST', `/v1/cases/${cases[0]!.id}/referrals`, { to: 'helpline', consent: 'given' });
    await ok(t, p.sam, 'POST', `/v1/cases/${cases[0]!.id}/referrals`, { to: 'mental_health', consent: 'given' });
    await ok(t, p.sam, 'POST', `/v1/cases/${cases[2]!.id}/referrals`, { to: 'exit_programme', consent: 'given' });

    const from = flaggedAt.slice(0, 10);
    const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const report = await ok<{ rows: Row[]; definition: Record<string, string> }>(
      t,
      p.lead,
      'GET',
      `/v1/reports/engagement?programId=${p.programId}&from=${from}&to=${to}&groupBy=outreachAccount`,
    );
    const by = Object.fromEntries(report.rows.map((r) => [r.group, r]));
    expect(by[account.id]).toMatchObject({ flagged: 2, contacted: 2, referred: 1 });
    expect(by[other.id]).toMatchObject({ flagged: 1, contacted: 1, referred: 1 });
    expect(by['total']).toMatchObject({ flagged: 4, contacted: 4, referred: 2 });
    expect(report.rows).toHaveLength(3);
    expect(report.definition['referred']).toMatch(/referral/);
    const w = { programId: p.programId, from, to };
    expect((await fromRollups(t.db.db, w, 'outreachAccount')).groups).toEqual((await fromRaw(t.db.db, w, 'outreachAccount')).groups);
    expect((await fromRollups(t.db.db, w, 'intervener')).groups).toEqual((await fromRaw(t.db.db, w, 'intervener')).groups);
  });
});
