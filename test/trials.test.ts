import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, trialStrata } from '../src/db/schema/index.js';
import { holm, newcombeDiff } from '../src/domain/reports/inference.js';
import { twoProportionPValue, wilson } from '../src/domain/reports/stats.js';
import { armAt, blockSize, permutedBlock, stratumKey } from '../src/domain/trials/rules.js';
import { createTestApp, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

// API.md, "Approach trials": stratified permuted blocks at first assignment, fixed for good, and the trial report.
type Trial = { id: string; arms: string[]; stratifyBy: string[]; status: string; allocated: number };
type CaseView = {
  id: string;
  status: string;
  assigneeId: string | null;
  trial: { trialId: string; arm: string; allocatedAt: string } | null;
};

/** A case flagged, accepted and approved (not yet assigned). */
async function approvedCase(t: TestApp, lead: Who, programId: string, extra: Record<string, unknown> = {}) {
  const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId, extra));
  await ok(t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
  await ok(t, lead, 'POST', `/v1/cases/${c.id}/approve`, {});
  return c.id;
}

const assign = (t: TestApp, lead: Who, caseId: string, intervenerId: string) =>
  ok<CaseView>(t, lead, 'POST', `/v1/cases/${caseId}/assignment`, { intervenerId });

describe('permuted blocks (pure)', () => {
  it('each block holds every arm exactly twice, reproducibly, and blocks differ', () => {
    const arms = ['empathetic', 'questioning', 'humour'] as const;
    expect(blockSize(arms)).toBe(6);
    const seen = new Set<string>();
    for (let b = 0; b < 40; b++) {
      const block = permutedBlock(TEST_SECRET, 'trial-1', 'all', b, arms);
      expect([...block].sort()).toEqual(['empathetic', 'empathetic', 'humour', 'humour', 'questioning', 'questioning']);
      expect(permutedBlock(TEST_SECRET, 'trial-1', 'all', b, arms)).toEqual(block);
      seen.add(block.join(','));
    }
    // 90 distinct orders of a block of 6 with 3 arms twice: 40 shuffled blocks cannot all be the same few.
    expect(seen.size).toBeGreaterThan(15);
    // Another secret, trial or stratum gives another sequence.
    const seq = (secret: string, trial: string, stratum: string) =>
      Array.from({ length: 24 }, (_, i) => armAt(secret, trial, stratum, i, arms)).join(',');
    const base = seq(TEST_SECRET, 'trial-1', 'all');
    expect(seq('another-secret-0123456789abcdef0123456789', 'trial-1', 'all')).not.toBe(base);
    expect(seq(TEST_SECRET, 'trial-2', 'all')).not.toBe(base);
    expect(seq(TEST_SECRET, 'trial-1', 'riskLevel=high')).not.toBe(base);
  });

  it('names a stratum by the fields the trial stratifies by, in a fixed order', () => {
    const c = { ideology: 'islamist', riskLevel: 'high', platform: 'x' };
    expect(stratumKey([], c)).toBe('all');
    expect(stratumKey(['riskLevel'], c)).toBe('riskLevel=high');
    expect(stratumKey(['platform', 'ideology'], c)).toBe('ideology=islamist;platform=x');
  });
});

describe('trials', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let sam: Who;
  let lee: Who;
  let ana: Who;
  let evaluator: Who;
  let analyst: Who;

  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, sam, lee, ana, evaluator, analyst } = await cast(t, {
      lead: 'lead',
      sam: { role: 'intervener', maxCaseload: 200 },
      lee: { role: 'intervener', maxCaseload: 200 },
      ana: { role: 'intervener', maxCaseload: 1 },
      evaluator: 'evaluator',
      analyst: 'analyst',
    }));
  });
  afterAll(() => t.close());

  it('refuses bad designs with 400, a second running trial with 409, and non-leads', async () => {
    const bad = [
      { name: 'one arm', arms: ['empathetic'] },
      { name: 'five', arms: ['empathetic', 'questioning', 'humour', 'informational', 'challenging'] },
      { name: 'dup', arms: ['empathetic', 'empathetic'] },
      { name: 'unknown', arms: ['empathetic', 'shouting'] },
      { name: 'strata', arms: ['empathetic', 'humour'], stratifyBy: ['language'] },
      { name: 'strata twice', arms: ['empathetic', 'humour'], stratifyBy: ['riskLevel', 'riskLevel'] },
      { name: '', arms: ['empathetic', 'humour'] },
      { name: 'extra', arms: ['empathetic', 'humour'], blockSize: 2 },
    ];
    for (const body of bad) {
      const res = await call(t, lead, 'POST', `/v1/programs/${programId}/trials`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    for (const who of [sam, evaluator, analyst]) {
      expect(
        (await call(t, who, 'POST', `/v1/programs/${programId}/trials`, { name: 'x', arms: ['empathetic', 'humour'] })).statusCode,
      ).toBe(403);
    }
    const other = await cast(t, { lead: 'lead' });
    expect(
      (await call(t, other.lead, 'POST', `/v1/programs/${programId}/trials`, { name: 'x', arms: ['empathetic', 'humour'] })).statusCode,
    ).toBe(404);
    const first = await ok<Trial>(t, other.lead, 'POST', `/v1/programs/${other.programId}/trials`, {
      name: 'a',
      arms: ['empathetic', 'humour'],
    });
    expect(first).toMatchObject({ status: 'running', stratifyBy: [], allocated: 0 });
    const again = await call(t, other.lead, 'POST', `/v1/programs/${other.programId}/trials`, {
      name: 'b',
      arms: ['empathetic', 'humour'],
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('trial.already_running');
    // Another program's trial is missing, for reading, stopping and reporting.
    for (const [method, url] of [
      ['GET', `/v1/trials/${first.id}`],
      ['POST', `/v1/trials/${first.id}/stop`],
      ['GET', `/v1/reports/trials/${first.id}`],
    ] as const) {
      expect((await call(t, lead, method, url)).statusCode).toBe(404);
    }
    expect((await ok<Trial>(t, other.lead, 'POST', `/v1/trials/${first.id}/stop`)).status).toBe('stopped');
    const twice = await call(t, other.lead, 'POST', `/v1/trials/${first.id}/stop`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('trial.not_running');
  });

  it('balances each stratum in blocks of twice the arm count, keeps arms for good, and stops allocating when stopped', async () => {
    const before = await approvedCase(t, lead, programId, { riskLevel: 'high' });
    await assign(t, lead, before, sam.id);
    const trial = await ok<Trial>(t, lead, 'POST', `/v1/programs/${programId}/trials`, {
      name: 'Opening approach',
      arms: ['empathetic', 'questioning'],
      stratifyBy: ['riskLevel'],
    });
    expect(trial).toMatchObject({ arms: ['empathetic', 'questioning'], stratifyBy: ['riskLevel'], status: 'running' });
    expect((await ok<{ items: Trial[] }>(t, evaluator, 'GET', `/v1/programs/${programId}/trials`)).items.map((x) => x.id)).toContain(
      trial.id,
    );

    // A case assigned before the trial is never allocated, even when reassigned during it.
    const moved = await assign(t, lead, before, lee.id);
    expect(moved.trial).toBeNull();

    const arms: Record<'high' | 'low', string[]> = { high: [], low: [] };
    const ids: Record<'high' | 'low', string[]> = { high: [], low: [] };
    for (let i = 0; i < 8; i++) {
      for (const risk of ['high', 'low'] as const) {
        const id = await approvedCase(t, lead, programId, { riskLevel: risk });
        const assigned = await assign(t, lead, id, i % 2 ? sam.id : lee.id);
        expect(assigned.trial).toMatchObject({ trialId: trial.id });
        arms[risk].push(assigned.trial!.arm);
        ids[risk].push(id);
      }
    }
    for (const risk of ['high', 'low'] as const) {
      // Every block of 4 in a stratum holds each arm twice.
      for (const block of [arms[risk].slice(0, 4), arms[risk].slice(4, 8)]) {
        expect(block.filter((a) => a === 'empathetic')).toHaveLength(2);
      }
      // And the sequence is the one the secret and the trial id give: anyone holding both can re-derive it.
      expect(arms[risk]).toEqual(
        Array.from({ length: 8 }, (_, i) => armAt(TEST_SECRET, trial.id, `riskLevel=${risk}`, i, ['empathetic', 'questioning'])),
      );
    }
    expect((await ok<Trial>(t, lead, 'GET', `/v1/trials/${trial.id}`)).allocated).toBe(16);
    // The list counts each trial's allocations too (the stopped one of another program is not in it).
    const listed = await ok<{ items: Trial[] }>(t, evaluator, 'GET', `/v1/programs/${programId}/trials`);
    expect(listed.items.find((x) => x.id === trial.id)?.allocated).toBe(16);

    // The arm stays through reassignment, handover, close and reopen.
    const id = ids.high[0]!;
    const arm = arms.high[0]!;
    const reread = async () => (await ok<CaseView>(t, lead, 'GET', `/v1/cases/${id}`)).trial?.arm;
    const holder = (await ok<CaseView>(t, lead, 'GET', `/v1/cases/${id}`)).assigneeId!;
    const other = holder === sam.id ? lee : sam;
    await assign(t, lead, id, other.id);
    expect(await reread()).toBe(arm);
    await ok(t, lead, 'POST', `/v1/staff/${other.id}/handover`, { toIntervenerId: holder, reason: 'rota' });
    expect(await reread()).toBe(arm);
    await ok(t, lead, 'POST', `/v1/cases/${id}/close`, { outcome: 'other' });
    await ok(t, lead, 'POST', `/v1/cases/${id}/reopen`, { reason: 'wrote back' });
    expect(await reread()).toBe(arm);
    // The holder sees it on their case as the suggested opening approach.
    const mine = await ok<CaseView>(t, holder === sam.id ? sam : lee, 'GET', `/v1/cases/${id}`);
    expect(mine.trial?.arm).toBe(arm);

    // An assignment that is refused allocates nothing: the stratum's count stays.
    const count = async () =>
      (await t.db.db.select().from(trialStrata).where(eq(trialStrata.trialId, trial.id))).reduce((s, r) => s + r.allocated, 0);
    await activeCase(t, lead, programId, ana.id).catch(() => undefined);
    const before2 = await count();
    const refused = await approvedCase(t, lead, programId, { riskLevel: 'high' });
    const res = await call(t, lead, 'POST', `/v1/cases/${refused}/assignment`, { intervenerId: ana.id });
    expect(res.statusCode).toBe(409);
    expect(await count()).toBe(before2);
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, refused));
    expect(row!.trialId).toBeNull();

    await ok(t, lead, 'POST', `/v1/trials/${trial.id}/stop`);
    const after = await approvedCase(t, lead, programId, { riskLevel: 'high' });
    expect((await assign(t, lead, after, sam.id)).trial).toBeNull();
    expect(await reread()).toBe(arm);
  });

  it('allocates concurrent first assignments in one stratum to consecutive positions', async () => {
    const p = await cast(t, { lead: 'lead', a: { role: 'intervener', maxCaseload: 50 }, b: { role: 'intervener', maxCaseload: 50 } });
    const trial = await ok<Trial>(t, p.lead, 'POST', `/v1/programs/${p.programId}/trials`, {
      name: 'race',
      arms: ['humour', 'informational'],
    });
    const ids = await Promise.all(Array.from({ length: 8 }, () => approvedCase(t, p.lead, p.programId)));
    const views = await Promise.all(ids.map((id, i) => assign(t, p.lead, id, i % 2 ? p.a.id : p.b.id)));
    const got = views.map((v) => v.trial!.arm).sort();
    // Eight allocations in one stratum fill two whole blocks: four of each arm, whatever order they committed in.
    expect(got.filter((a) => a === 'humour')).toHaveLength(4);
    const [s] = await t.db.db.select().from(trialStrata).where(eq(trialStrata.trialId, trial.id));
    expect(s!.allocated).toBe(8);
  });
});

describe('trial report', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const touch = (t: TestApp, who: Who, caseId: string, direction: 'outbound' | 'inbound', at: number, approaches?: string[]) =>
    ok(t, who, 'POST', `/v1/cases/${caseId}/touchpoints`, {
      direction,
      channel: 'direct_message',
      occurredAt: new Date(Date.now() - 3_600_000 + at * 1000).toISOString(),
      ...(approaches ? { approaches } : {}),
    });

  it('gives intention-to-treat and per-protocol figures equal to a recount of what the test did', async () => {
    // Sustained: 3 touchpoints from first contact with 1 inbound (out, in, out).
    const p = await cast(
      t,
      { lead: 'lead', sam: { role: 'intervener', maxCaseload: 100 }, evaluator: 'evaluator', intervener: 'intervener' },
      { minCellSize: 1, sustainedMinMessages: 3, sustainedMinInbound: 1 },
    );
    const arms = ['empathetic', 'questioning', 'humour'] as const;
    const trial = await ok<Trial>(t, p.lead, 'POST', `/v1/programs/${p.programId}/trials`, { name: 'itt', arms });
    type Tally = { allocated: number; contacted: number; responded: number; sustained: number; complied: number; cr: number; cs: number };
    const tally = new Map<string, Tally>(
      arms.map((a) => [a, { allocated: 0, contacted: 0, responded: 0, sustained: 0, complied: 0, cr: 0, cs: 0 }]),
    );
    for (let i = 0; i < 18; i++) {
      const id = await approvedCase(t, p.lead, p.programId, { flaggedAt: new Date(Date.now() - 7_200_000).toISOString() });
      const arm = (await assign(t, p.lead, id, p.sam.id)).trial!.arm;
      const k = tally.get(arm)!;
      k.allocated++;
      // What happens to the case, by its index: not contacted, contacted with its arm or with another approach, responded, sustained.
      const plan = i % 6;
      if (plan === 0) continue;
      const usesArm = plan !== 2 && plan !== 5;
      const opening = usesArm ? [arm] : [arm === 'humour' ? 'informational' : 'humour'];
      await touch(t, p.sam, id, 'outbound', 0, opening);
      k.contacted++;
      if (usesArm) k.complied++;
      if (plan >= 3) {
        await touch(t, p.sam, id, 'inbound', 60);
        k.responded++;
        if (usesArm) k.cr++;
      }
      if (plan >= 4) {
        await touch(t, p.sam, id, 'outbound', 120, ['empathetic']);
        k.sustained++;
        if (usesArm) k.cs++;
      }
    }
    // The blocks of 6 balance the three arms exactly at 18 cases.
    expect([...tally.values()].map((k) => k.allocated)).toEqual([6, 6, 6]);

    type Arm = {
      arm: string;
      allocated: number;
      contacted: number;
      responded: number;
      sustained: number;
      responseRate: unknown;
      sustainedRate: unknown;
      compliance: unknown;
    };
    type Cmp = {
      arm: string;
      vs: string;
      sustainedRateDiff: unknown;
      responseRateDiff: unknown;
      pValue: number | null;
      pValueAdjusted: number | null;
    };
    type Analysis = { arms: Arm[]; comparisons: Cmp[]; minimumDetectableDiff: number | null };
    const report = await ok<Analysis & { analysis: string; perProtocol: Analysis; definition: Record<string, string> }>(
      t,
      p.evaluator,
      'GET',
      `/v1/reports/trials/${trial.id}`,
    );
    expect(report.analysis).toBe('intention_to_treat');
    expect(report.definition.comparisons).toMatch(/Newcombe/);
    expect(report.definition.comparisons).toMatch(/Holm/);
    const expectArms = (key: (k: Tally) => [number, number, number, number], compliance: boolean) =>
      arms.map((arm) => {
        const [n, contacted, responded, sustained] = key(tally.get(arm)!);
        const k = tally.get(arm)!;
        return {
          arm,
          allocated: n,
          contacted,
          responded,
          sustained,
          responseRate: wilson(responded, n),
          sustainedRate: wilson(sustained, n),
          compliance: compliance ? wilson(k.complied, k.contacted) : null,
          suppressed: false,
        };
      });
    expect(report.arms).toEqual(expectArms((k) => [k.allocated, k.contacted, k.responded, k.sustained], true));
    expect(report.perProtocol.arms).toEqual(expectArms((k) => [k.complied, k.complied, k.cr, k.cs], false));
    const expectComparisons = (key: (k: Tally) => [number, number, number]) => {
      const [n0, r0, s0] = key(tally.get(arms[0])!);
      const raw = arms.slice(1).map((arm) => {
        const [n, r, s] = key(tally.get(arm)!);
        return {
          arm,
          vs: arms[0],
          sustainedRateDiff: newcombeDiff(s, n, s0, n0),
          responseRateDiff: newcombeDiff(r, n, r0, n0),
          pValue: twoProportionPValue(s, n, s0, n0),
        };
      });
      const adjusted = holm(raw.map((r) => r.pValue));
      return raw.map((r, i) => ({ ...r, pValueAdjusted: adjusted[i] }));
    };
    expect(report.comparisons).toEqual(expectComparisons((k) => [k.allocated, k.responded, k.sustained]));
    expect(report.perProtocol.comparisons).toEqual(expectComparisons((k) => [k.complied, k.cr, k.cs]));
    // Each arm: 6 allocated, 2 sustained (plans 4 and 5): pooled 6/18 = 1/3.
    // MDD = (1.959964 + 0.841621) * sqrt(1/3 * 2/3 * (1/6 + 1/6)) = 2.801585 * sqrt(0.074074) = 2.801585 * 0.272166 = 0.7625
    expect(report.minimumDetectableDiff).toBeCloseTo(0.7625, 4);
    // The recount agrees with the database's own view of the same cases.
    const [db] = (await t.db.db.execute<{ n: number }>(sql`select count(*)::int as n from cases where trial_id = ${trial.id}`)).rows;
    expect(db!.n).toBe(18);

    // An intervener reads no report; a snapshot freezes it and verifies.
    expect((await call(t, p.intervener, 'GET', `/v1/reports/trials/${trial.id}`)).statusCode).toBe(403);
    const snap = await ok<{ id: string; programId: string; body: { arms: unknown } }>(t, p.lead, 'POST', '/v1/reports/snapshots', {
      report: 'trial',
      params: { trialId: trial.id },
    });
    expect(snap.programId).toBe(p.programId);
    expect(snap.body.arms).toEqual(report.arms);
    expect(await ok(t, p.evaluator, 'GET', `/v1/reports/snapshots/${snap.id}/verify`)).toMatchObject({ ok: true });
    const other = await cast(t, { lead: 'lead' });
    expect(
      (await call(t, other.lead, 'POST', '/v1/reports/snapshots', { report: 'trial', params: { trialId: trial.id } })).statusCode,
    ).toBe(404);
  });

  it('suppresses small arms and everything built on them', async () => {
    const p = await cast(t, { lead: 'lead', sam: { role: 'intervener', maxCaseload: 100 } }, { minCellSize: 5 });
    const trial = await ok<Trial>(t, p.lead, 'POST', `/v1/programs/${p.programId}/trials`, {
      name: 'small',
      arms: ['empathetic', 'humour'],
    });
    for (let i = 0; i < 4; i++) await assign(t, p.lead, await approvedCase(t, p.lead, p.programId), p.sam.id);
    const report = await ok<{
      arms: { allocated: number | null; sustainedRate: unknown; suppressed: boolean }[];
      comparisons: { sustainedRateDiff: unknown; pValue: unknown }[];
      minimumDetectableDiff: unknown;
    }>(t, p.lead, 'GET', `/v1/reports/trials/${trial.id}`);
    // Two cases per arm (4 = one block of 2 × 2): both arms hidden, so nothing compares.
    expect(report.arms.map((a) => [a.allocated, a.sustainedRate, a.suppressed])).toEqual([
      [null, null, true],
      [null, null, true],
    ]);
    expect(report.comparisons[0]).toMatchObject({ sustainedRateDiff: null, pValue: null });
    expect(report.minimumDetectableDiff).toBeNull();
  });
});
