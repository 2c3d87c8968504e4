import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases } from '../src/db/schema/index.js';
import { fromRaw, fromRollups } from '../src/domain/reports/engagement.js';
import { rollupAll } from '../src/domain/reports/rollup.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase } from './helpers/story.js';

const INT4_MAX = 2 ** 31 - 1;
const NEAR = 2_147_483_000;
const MAX_COST = 1_000_000;

let t: TestApp;
let programId: string;
let lead: Who;
let sam: Who;
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, sam } = await cast(
    t,
    { lead: 'lead', sam: 'intervener' },
    { minCellSize: 1, sustainedMinMessages: 2, sustainedMinInbound: 1 },
  ));
});
afterAll(() => t.close());

const touch = (caseId: string, body: Record<string, unknown>, who = sam) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/cases/${caseId}/touchpoints`,
    headers: who.auth,
    payload: { channel: 'paid_message', ...body },
  });

/** A sustained case whose outbound messages already cost NEAR cents (set with SQL: 2,148 real ones would do the same). */
async function costlyCase() {
  const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(100) });
  expect(
    (await touch(c.id, { direction: 'outbound', occurredAt: ago(90), costCents: MAX_COST, approaches: ['empathetic'] })).statusCode,
  ).toBe(201);
  await t.db.db.execute(sql`update touchpoints set cost_cents = ${NEAR} where case_id = ${c.id}`);
  await t.db.db.execute(sql`update cases set outbound_cost_cents = ${NEAR} where id = ${c.id}`);
  expect((await touch(c.id, { direction: 'inbound', occurredAt: ago(80) })).statusCode).toBe(201);
  return c.id;
}

describe('counters that sum client values', () => {
  it('a touchpoint costs 0 to 1,000,000 cents, whole', async () => {
    // A program of its own: the report below counts every cost of its program.
    const { programId: other, otherLead, otherSam } = await cast(t, { otherLead: 'lead', otherSam: 'intervener' });
    const c = await activeCase(t, otherLead, other, otherSam.id, { flaggedAt: ago(100) });
    for (const costCents of [MAX_COST + 1, -1, 1.5, 2 ** 31, '100']) {
      const body = expectProblem(
        await touch(c.id, { direction: 'outbound', occurredAt: ago(1), costCents }, otherSam),
        400,
        'request.invalid',
      );
      expect((body['errors'] as { path: string }[]).map((e) => e.path)).toEqual(['body.costCents']);
    }
    expect((await touch(c.id, { direction: 'outbound', occurredAt: ago(1), costCents: 0 }, otherSam)).statusCode).toBe(201);
    expect((await touch(c.id, { direction: 'outbound', occurredAt: ago(1), costCents: MAX_COST }, otherSam)).statusCode).toBe(201);
  });

  it('a case already near 2^31 cents takes another costed outbound message, and reports over such cases answer 200', async () => {
    const ids = [await costlyCase(), await costlyCase()];
    for (const id of ids) {
      const res = await touch(id, { direction: 'outbound', occurredAt: ago(70), costCents: MAX_COST });
      expect(res.statusCode).toBe(201);
      const [c] = await t.db.db.select({ cost: cases.outboundCostCents, stage: cases.stage }).from(cases).where(eq(cases.id, id));
      expect(c).toEqual({ cost: NEAR + MAX_COST, stage: 'sustained' });
      expect(c!.cost).toBeGreaterThan(INT4_MAX);
    }
    const total = 2 * (NEAR + MAX_COST);

    const base = `/v1/reports/engagement?programId=${programId}&from=${day(-1)}&to=${day(1)}`;
    for (const groupBy of ['', '&groupBy=intervener', '&groupBy=approach', '&groupBy=ideology', '&groupBy=cohort']) {
      const res = await t.app.inject({ method: 'GET', url: base + groupBy, headers: lead.auth });
      expect(res.statusCode, groupBy).toBe(200);
      const totalRow = res.json().rows.at(-1);
      expect(totalRow.group).toBe('total');
      expect(totalRow.sustained).toBe(2);
      expect(totalRow.costPerSustainedCents).toBe(total / 2);
    }
    const csv = await t.app.inject({ method: 'GET', url: `${base}&groupBy=intervener&format=csv`, headers: lead.auth });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain(String(total / 2));
    const trend = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/engagement/trend?programId=${programId}&from=${day(-1)}&to=${day(1)}`,
      headers: lead.auth,
    });
    expect(trend.statusCode).toBe(200);

    // The raw recount and the rollups agree past 2^32 as well.
    await rollupAll(t.db.db, { programId });
    const w = { programId, from: day(-1), to: day(1) };
    for (const dim of [null, 'intervener', 'approach'] as const) {
      const [raw, rolled] = [await fromRaw(t.db.db, w, dim), await fromRollups(t.db.db, w, dim)];
      expect(rolled.total.costCents).toBe(total);
      expect(raw.total.costCents).toBe(total);
      expect([...rolled.groups]).toEqual([...raw.groups]);
    }
  });
});
