import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../src/db/schema/index.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

let t: TestApp;
let programId: string;
let lead: Who;
let sam: Who;
let kim: Who;
const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
const window = (extra = '') => `/v1/reports/engagement?programId=${programId}&from=2020-01-01&to=${tomorrow}${extra}`;
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();

async function touch(
  who: Who,
  caseId: string,
  direction: 'outbound' | 'inbound',
  minutesAgo: number,
  approaches?: string[],
  costCents?: number,
) {
  await ok(t, who, 'POST', `/v1/cases/${caseId}/touchpoints`, {
    direction,
    channel: 'paid_message',
    occurredAt: ago(minutesAgo),
    ...(approaches ? { approaches } : {}),
    ...(costCents ? { costCents } : {}),
  });
}

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, sam, kim } = await cast(
    t,
    { lead: 'lead', sam: 'intervener', kim: 'intervener' },
    { minCellSize: 1, sustainedMinMessages: 3, sustainedMinInbound: 1 },
  ));
  // Case A (sam): contacted with empathy, answered in 60 min, sustained, closed positive.
  const a = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
  await touch(sam, a.id, 'outbound', 300, ['empathetic', 'nonjudgmental'], 100);
  await touch(sam, a.id, 'inbound', 240);
  await touch(sam, a.id, 'outbound', 200, undefined, 100);
  await ok(t, lead, 'POST', `/v1/cases/${a.id}/close`, { outcome: 'positive_change' });
  // Case B: sam contacts (challenging), then the case moves to kim, who gets the reply.
  const b = await activeCase(t, lead, programId, sam.id, {
    flaggedAt: ago(1000),
    ideology: 'islamist',
    profile: { platform: 'telegram', handle: `b${Date.now()}` },
  });
  await touch(sam, b.id, 'outbound', 100, ['challenging'], 50);
  await ok(t, lead, 'POST', `/v1/cases/${b.id}/assignment`, { intervenerId: kim.id });
  await touch(kim, b.id, 'inbound', 10);
  // Case C: flagged only; case D: rejected at triage.
  await ok(t, lead, 'POST', '/v1/cases', flagBody(programId, { flaggedAt: ago(1000) }));
  const d = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId, { flaggedAt: ago(1000) }));
  await ok(t, lead, 'POST', `/v1/cases/${d.id}/triage`, { decision: 'reject', reason: 'not in scope' });
});
afterAll(() => t.close());

describe('engagement report', () => {
  it('counts the funnel with Wilson intervals, medians, cost and an honest definition', async () => {
    const r = await ok<{ rows: Record<string, unknown>[]; asOf: string; definition: Record<string, unknown> }>(t, lead, 'GET', window());
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({
      group: 'total',
      flagged: 4,
      accepted: 2,
      contacted: 2,
      responded: 2,
      sustained: 1,
      positive: 1,
      responseRate: { value: 1, ci95: [0.3424, 1] },
      sustainedRate: { value: 0.5, ci95: [0.0945, 0.9055] },
      costPerSustainedCents: 250,
      suppressed: false,
    });
    // A answered after 60 min, B after 90 min: median 75 min.
    expect(r.rows[0]!['medianHoursToFirstResponse']).toBe(1.25);
    expect(Math.abs(Date.parse(r.asOf) - Date.now())).toBeLessThan(60_000);
    expect(r.definition).toMatchObject({ sustainedMinMessages: 3, sustainedMinInbound: 1, minCellSize: 1 });
  });

  it('credits each stage to the intervener who held the case when it was reached', async () => {
    const r = await ok<{ rows: { group: string; contacted: number; responded: number; sustained: number; flagged: number }[] }>(
      t,
      lead,
      'GET',
      window('&groupBy=intervener'),
    );
    const bySam = r.rows.find((x) => x.group === sam.id)!;
    const byKim = r.rows.find((x) => x.group === kim.id)!;
    expect(bySam).toMatchObject({ flagged: 2, contacted: 2, responded: 1, sustained: 1 });
    expect(byKim).toMatchObject({ flagged: 0, contacted: 0, responded: 1, sustained: 0 });
    expect(r.rows.at(-1)!.group).toBe('total');
  });

  it('names each intervener (a lead tells people apart), in JSON and CSV, and the CSV does not run a name as a formula', async () => {
    await t.db.pool.query("update staff set name = 'Sam Field' where id = $1", [sam.id]);
    await t.db.pool.query('update staff set name = \'=HYPERLINK("x")\' where id = $1', [kim.id]);
    const r = await ok<{ rows: { group: string; name?: string | null }[] }>(t, lead, 'GET', window('&groupBy=intervener'));
    expect(r.rows.find((x) => x.group === sam.id)!.name).toBe('Sam Field');
    expect(r.rows.find((x) => x.group === kim.id)!.name).toBe('=HYPERLINK("x")');
    expect(r.rows.at(-1)!.name).toBeNull();
    // Other groupings carry no name.
    const byIdeology = await ok<{ rows: Record<string, unknown>[] }>(t, lead, 'GET', window('&groupBy=ideology'));
    expect(byIdeology.rows.every((x) => !('name' in x))).toBe(true);
    const csv = (await call(t, lead, 'GET', window('&groupBy=intervener&format=csv'))).body.split('\r\n');
    expect(csv[0]!.startsWith('group,name,flagged,')).toBe(true);
    expect(csv.find((l) => l.startsWith(sam.id))!.split(',')[1]).toBe('Sam Field');
    expect(csv.find((l) => l.startsWith(kim.id))).toContain(`,"'=HYPERLINK(""x"")",`);
  });

  it('groups by ideology, platform, riskLevel and cohort month', async () => {
    const ideology = await ok<{ rows: { group: string; flagged: number }[] }>(t, lead, 'GET', window('&groupBy=ideology'));
    expect(ideology.rows.map((r) => [r.group, r.flagged])).toEqual([
      ['far_right', 3],
      ['islamist', 1],
      ['total', 4],
    ]);
    const platform = await ok<{ rows: { group: string; flagged: number }[] }>(t, lead, 'GET', window('&groupBy=platform'));
    expect(platform.rows.map((r) => r.group)).toEqual(['telegram', 'x', 'total']);
    const cohort = await ok<{ rows: { group: string }[] }>(t, lead, 'GET', window('&groupBy=cohort'));
    expect(cohort.rows[0]!.group).toMatch(/^\d{4}-\d{2}$/);
    const risk = await ok<{ rows: { group: string }[] }>(t, lead, 'GET', window('&groupBy=riskLevel'));
    expect(risk.rows.map((r) => r.group)).toEqual(['medium', 'total']);
  });

  it('compares approaches against all other contacted cases', async () => {
    const r = await ok<{ rows: { group: string; contacted: number; sustained: number; vsRest: Record<string, number | null> | null }[] }>(
      t,
      lead,
      'GET',
      window('&groupBy=approach'),
    );
    expect(r.rows.map((x) => x.group)).toEqual(['challenging', 'empathetic', 'nonjudgmental', 'total']);
    const empathetic = r.rows.find((x) => x.group === 'empathetic')!;
    expect(empathetic).toMatchObject({ contacted: 1, sustained: 1 });
    expect(empathetic.vsRest).toMatchObject({ responseRateDiff: 0, sustainedRateDiff: 1 });
    expect(empathetic.vsRest!['pValue']).toBeGreaterThan(0);
    expect(empathetic.vsRest!['pValue']).toBeLessThanOrEqual(1);
  });

  it('suppresses small cells, and a second one so the total does not give them away', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' }, { minCellSize: 3 });
    for (let n = 0; n < 4; n++) await ok(t, l, 'POST', '/v1/cases', flagBody(p, { ideology: 'far_right' }));
    await activeCase(t, l, p, i.id, { ideology: 'islamist' });
    const r = await ok<{ rows: { group: string; flagged: number | null; suppressed: boolean; responseRate: unknown }[] }>(
      t,
      l,
      'GET',
      `/v1/reports/engagement?programId=${p}&from=2020-01-01&to=${tomorrow}&groupBy=ideology`,
    );
    const islamist = r.rows.find((x) => x.group === 'islamist')!;
    const farRight = r.rows.find((x) => x.group === 'far_right')!;
    expect(islamist).toMatchObject({ flagged: null, suppressed: true });
    expect(farRight.flagged).toBeNull();
    expect(r.rows.at(-1)).toMatchObject({ group: 'total', flagged: 5 });
  });

  it('serves the same numbers as RFC 4180 CSV', async () => {
    const json = await ok<{ rows: Record<string, unknown>[] }>(t, lead, 'GET', window('&groupBy=approach'));
    const res = await call(t, lead, 'GET', window('&groupBy=approach&format=csv'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.body.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(
      'group,flagged,accepted,contacted,responded,sustained,positive,referred,responseRate,responseRateLow,responseRateHigh,sustainedRate,sustainedRateLow,sustainedRateHigh,positiveRate,positiveRateLow,positiveRateHigh,medianHoursToFirstResponse,costPerSustainedCents,suppressed,responseRateDiff,sustainedRateDiff,pValue,responsePValue,pValueAdjusted,adjustedSustainedRateDiff,adjustedLow,adjustedHigh,adjustedStrata',
    );
    expect(lines).toHaveLength(json.rows.length + 1);
    const total = lines.at(-1)!.split(',');
    const tj = json.rows.at(-1)! as { flagged: number; contacted: number; sustainedRate: { value: number; ci95: number[] } };
    expect(total[0]).toBe('total');
    expect(Number(total[1])).toBe(tj.flagged);
    expect(Number(total[3])).toBe(tj.contacted);
    expect(Number(total[11])).toBe(tj.sustainedRate.value);
    expect(Number(total[12])).toBe(tj.sustainedRate.ci95[0]);
  });

  it('gives a zero-filled trend by day and week', async () => {
    const r = await ok<{ buckets: { start: string; contacted: number; responded: number; sustained: number }[] }>(
      t,
      lead,
      'GET',
      `/v1/reports/engagement/trend?programId=${programId}&interval=day&from=${new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)}&to=${tomorrow}`,
    );
    expect(r.buckets).toHaveLength(4);
    const sum = (k: 'contacted' | 'responded' | 'sustained') => r.buckets.reduce((s, b) => s + (b[k] ?? 0), 0);
    expect([sum('contacted'), sum('responded'), sum('sustained')]).toEqual([2, 2, 1]);
    const weeks = await ok<{ buckets: { start: string }[] }>(
      t,
      lead,
      'GET',
      `/v1/reports/engagement/trend?programId=${programId}&interval=week&from=2026-01-01&to=2026-02-01`,
    );
    expect(weeks.buckets.every((b) => new Date(`${b.start}T00:00:00Z`).getUTCDay() === 1)).toBe(true);
  });

  it('is for the program lead only, validates the window, and is audited', async () => {
    expectProblem(await call(t, sam, 'GET', window()), 403, 'auth.forbidden');
    expectProblem(await call(t, await t.staff('analyst', programId), 'GET', window()), 403);
    expectProblem(await call(t, await t.staff('admin', null), 'GET', window()), 403);
    const { other } = await cast(t, { other: 'lead' });
    expectProblem(await call(t, other, 'GET', window()), 404, 'program.not_found');
    expectProblem(
      await call(t, lead, 'GET', `/v1/reports/engagement?programId=${programId}&from=${tomorrow}&to=${today}`),
      400,
      'report.invalid_window',
    );
    expectProblem(
      await call(t, lead, 'GET', `/v1/reports/engagement?programId=${programId}&from=2026-01-01T10:00:00Z&to=${today}`),
      400,
      'request.invalid',
    );
    expectProblem(
      await call(t, lead, 'GET', `/v1/reports/engagement?programId=${programId}&from=2026-02-30&to=${today}`),
      400,
      'request.invalid',
    );
    expectProblem(await call(t, lead, 'GET', window('&groupBy=mood')), 400, 'request.invalid');
    const before = (await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'report.engagement'))).length;
    await ok(t, lead, 'GET', window());
    expect((await t.db.db.select().from(auditLog).where(eq(auditLog.action, 'report.engagement'))).length).toBe(before + 1);
  });
});
