import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mantelHaenszelRiskDiff } from '../src/domain/reports/inference.js';
import { twoProportionPValue } from '../src/domain/reports/stats.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';

// API.md, "Adjusted approach comparison": groupBy=approach rows carry the Holm-adjusted p and the
// Mantel-Haenszel risk difference over ideology × riskLevel strata, so case mix cannot flatter an approach.
type VsRest = {
  sustainedRateDiff: number | null;
  pValue: number | null;
  pValueAdjusted: number | null;
  adjusted: { sustainedRateDiff: number; ci95: [number, number]; strata: number } | null;
};
type Row = { group: string; contacted: number; sustained: number; vsRest?: VsRest | null };

describe('adjusted approach comparison', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('turns round an approach that only looks better because it was used on easier cases (Simpson)', async () => {
    // Sustained = first outbound and one inbound (2 touchpoints, 1 inbound).
    const p = await cast(
      t,
      { lead: 'lead', sam: { role: 'intervener', maxCaseload: 100 } },
      {
        minCellSize: 1,
        sustainedMinMessages: 2,
        sustainedMinInbound: 1,
      },
    );
    const flaggedAt = new Date(Date.now() - 7_200_000).toISOString();
    const day = flaggedAt.slice(0, 10);
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    // [riskLevel, approach, contacted, sustained]: empathetic mostly on low-risk cases, challenging mostly on high-risk ones.
    const plan = [
      ['low', 'empathetic', 8, 6],
      ['low', 'challenging', 2, 2],
      ['high', 'empathetic', 2, 0],
      ['high', 'challenging', 8, 2],
    ] as const;
    for (const [riskLevel, approach, contacted, sustained] of plan) {
      for (let i = 0; i < contacted; i++) {
        const c = await activeCase(t, p.lead, p.programId, p.sam.id, { riskLevel, flaggedAt });
        const at = (s: number) => new Date(Date.now() - 3_600_000 + s * 1000).toISOString();
        await ok(t, p.sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
          direction: 'outbound',
          channel: 'direct_message',
          occurredAt: at(0),
          approaches: [approach],
        });
        if (i < sustained) {
          await ok(t, p.sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
            direction: 'inbound',
            channel: 'direct_message',
            occurredAt: at(60),
          });
        }
      }
    }
    const report = await ok<{ rows: Row[]; definition: Record<string, string> }>(
      t,
      p.lead,
      'GET',
      `/v1/reports/engagement?programId=${p.programId}&from=${day}&to=${next}&groupBy=approach`,
    );
    const row = (g: string) => report.rows.find((r) => r.group === g)!;
    const emp = row('empathetic').vsRest!;
    const cha = row('challenging').vsRest!;
    // Crude, by hand: empathetic 6/10 = 0.6 against the rest 4/10 = 0.4: +0.2, as if it worked better.
    expect(emp.sustainedRateDiff).toBe(0.2);
    expect(cha.sustainedRateDiff).toBe(-0.2);
    // Within each risk level empathetic does worse: low 6/8 - 2/2 = -0.25, high 0/2 - 2/8 = -0.25.
    // Mantel-Haenszel weights w = n1 n2 / N (8·2/10 = 1.6 both): RD = (1.6·-0.25 + 1.6·-0.25) / 3.2 = -0.25.
    expect(emp.adjusted).toMatchObject({ sustainedRateDiff: -0.25, strata: 2 });
    expect(cha.adjusted).toMatchObject({ sustainedRateDiff: 0.25, strata: 2 });
    // The interval is the Sato-variance one of the same strata (the estimator itself is checked against published examples in inference.test.ts).
    const mh = mantelHaenszelRiskDiff([
      { x1: 6, n1: 8, x2: 2, n2: 2 },
      { x1: 0, n1: 2, x2: 2, n2: 8 },
    ])!;
    expect(emp.adjusted!.ci95).toEqual(mh.ci95);
    expect(emp.adjusted!.ci95[0]).toBeLessThan(-0.25);
    expect(emp.adjusted!.ci95[1]).toBeGreaterThan(-0.25);
    // Holm over two approaches: both crude tests are the same 6/10 vs 4/10 test (z = 0.2 / sqrt(0.5·0.5·0.2) = 0.894, p = 0.371),
    // so each adjusted p is min(1, 2p) = 0.742.
    const crudeP = twoProportionPValue(6, 10, 4, 10)!;
    expect(crudeP).toBeCloseTo(0.3711, 3);
    expect(emp.pValue).toBe(crudeP);
    expect(emp.pValueAdjusted).toBeCloseTo(Math.min(1, 2 * crudeP), 6);
    expect(cha.pValueAdjusted).toBeCloseTo(Math.min(1, 2 * crudeP), 6);
    expect(report.definition.adjusted).toMatch(/Mantel-Haenszel.*Sato/);
    expect(report.definition.vsRest).toMatch(/Holm/);

    // The CSV carries the same adjusted figures.
    const csv = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/engagement?programId=${p.programId}&from=${day}&to=${next}&groupBy=approach&format=csv`,
      headers: p.lead.auth,
    });
    const [header, ...lines] = csv.body.trim().split('\r\n');
    const cols = header!.split(',');
    const empLine = lines.find((l) => l.startsWith('empathetic,'))!.split(',');
    expect(Number(empLine[cols.indexOf('adjustedSustainedRateDiff')])).toBe(-0.25);
    expect(Number(empLine[cols.indexOf('adjustedStrata')])).toBe(2);
  });
});
