import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/db/ids.js';
import { kappaFromTable } from '../src/domain/reports/kappa.js';
import { insertReview } from '../src/domain/reviews/store.js';
import type { Outcome } from '../src/domain/vocabulary.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, ok } from './helpers/story.js';

let t: TestApp;
let programId: string;
let lead: Who;
let evaluator: Who;
let sam: Who;
let analyst: Who;
let r1: Who;
let r2: Who;
let other: { programId: string; lead: Who; evaluator: Who };
let admin: Who;
const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
const GENESIS = '0'.repeat(64);

/** A case closed with `outcome`, then reviewed by two peers with these outcomes and signals. */
async function reviewedCase(
  p: { programId: string; lead: Who; holder: Who; reviewers: [Who, Who] },
  a: [Outcome, string[]],
  b: [Outcome, string[]],
) {
  const c = await activeCase(t, p.lead, p.programId, p.holder.id);
  await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'other' });
  const at = new Date(Date.now() + 1000);
  for (const [i, [outcome, signals]] of [a, b].entries()) {
    await insertReview(t.db.db, {
      id: uuidv7(),
      caseId: c.id,
      programId: p.programId,
      reviewerId: p.reviewers[i]!.id,
      outcome,
      signals,
      confidence: 'medium',
      createdAt: new Date(at.getTime() + i),
    });
  }
  return c.id;
}

const agreementUrl = (pid: string) => `/v1/reports/agreement?programId=${pid}&from=${today}&to=${tomorrow}`;
const engagement = (pid: string) => ({ report: 'engagement', params: { programId: pid, from: '2020-01-01', to: tomorrow } });

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, evaluator, sam, analyst, r1, r2 } = await cast(
    t,
    { lead: 'lead', evaluator: 'evaluator', sam: 'intervener', analyst: 'analyst', r1: 'intervener', r2: 'intervener' },
    { minCellSize: 5 },
  ));
  const p = { programId, lead, holder: sam, reviewers: [r1, r2] as [Who, Who] };
  // Outcome table (rows r1, columns r2) over positive_change / disengaged:
  //   3 both positive, 1 positive/disengaged, 2 both disengaged → 6 pairs.
  for (let i = 0; i < 3; i++) await reviewedCase(p, ['positive_change', ['expressed_doubt']], ['positive_change', ['expressed_doubt']]);
  await reviewedCase(p, ['positive_change', ['expressed_doubt', 'sought_help']], ['disengaged', []]);
  for (let i = 0; i < 2; i++) await reviewedCase(p, ['disengaged', []], ['disengaged', ['sought_help']]);
  const o = await cast(
    t,
    { lead: 'lead', evaluator: 'evaluator', sam: 'intervener', r1: 'intervener', r2: 'intervener' },
    { minCellSize: 5 },
  );
  other = { programId: o.programId, lead: o.lead, evaluator: o.evaluator };
  // Only two pairs in the other program: below its minCellSize of 5.
  for (let i = 0; i < 2; i++) {
    await reviewedCase(
      { programId: o.programId, lead: o.lead, holder: o.sam, reviewers: [o.r1, o.r2] },
      ['positive_change', []],
      ['positive_change', []],
    );
  }
  admin = await t.staff('admin', null);
});
afterAll(() => t.close());

describe('agreement report', () => {
  it("gives Cohen's kappa of the outcome and of each signal, with the method in its definition", async () => {
    const r = await ok<{
      pairs: number;
      outcome: { kappa: number; ci95: [number, number]; observedAgreement: number };
      signals: { code: string; kappa: number | null; ci95: [number, number] | null; pairs: number }[];
      definition: Record<string, string | number>;
      asOf: string;
    }>(t, evaluator, 'GET', agreementUrl(programId));
    expect(r.pairs).toBe(6);
    // po = 5/6; r1 positive 4/6, r2 positive 3/6; pe = 4/6·3/6 + 2/6·3/6 = 1/2; κ = (5/6 − 1/2)/(1/2) = 2/3.
    const expected = kappaFromTable([
      [3, 1],
      [0, 2],
    ]);
    expect(r.outcome.kappa).toBeCloseTo(2 / 3, 4);
    expect(r.outcome.observedAgreement).toBeCloseTo(5 / 6, 4);
    expect(r.outcome.ci95[0]).toBeCloseTo(expected.ci95![0], 4);
    expect(r.outcome.ci95[1]).toBeCloseTo(expected.ci95![1], 4);
    const doubt = r.signals.find((s) => s.code === 'expressed_doubt')!;
    // expressed_doubt present/absent: (yes,yes) 3, (yes,no) 1, (no,no) 2: the same table.
    expect(doubt).toMatchObject({ pairs: 6 });
    expect(doubt.kappa).toBeCloseTo(2 / 3, 4);
    // sought_help: (no,no) 3, (yes,no) 1, (no,yes) 2 → po = 1/2, pe = 1/6·2/6 + 5/6·4/6 = 22/36, κ = (18 − 22)/(36 − 22) = −2/7.
    expect(r.signals.find((s) => s.code === 'sought_help')!.kappa).toBeCloseTo(-2 / 7, 4);
    // A code nobody used: both raters say "absent" every time, so pe = 1 and kappa is undefined.
    expect(r.signals.find((s) => s.code === 'left_group_space')).toMatchObject({ kappa: null, ci95: null, pairs: 6 });
    expect(r.signals.map((s) => s.code)).toEqual(
      expect.arrayContaining(['expressed_doubt', 'reduced_hostility', 'accepted_support', 'left_group_space', 'sought_help', 'none']),
    );
    expect(String(r.definition['method'])).toContain('Fleiss, Cohen & Everitt (1969)');
    expect(r.definition['minCellSize']).toBe(5);
    expect(Date.parse(r.asOf)).not.toBeNaN();
    expect(await auditCount(t, 'report.agreement', evaluator.id)).toBeGreaterThanOrEqual(1);
  });

  it('is null with fewer than minCellSize pairs', async () => {
    const r = await ok<{ pairs: number; outcome: unknown; signals: { kappa: unknown; ci95: unknown }[] }>(
      t,
      other.lead,
      'GET',
      agreementUrl(other.programId),
    );
    expect(r.pairs).toBe(2);
    expect(r.outcome).toEqual({ kappa: null, ci95: null, observedAgreement: null });
    for (const s of r.signals) expect(s).toMatchObject({ kappa: null, ci95: null });
  });

  it('counts only cases closed in the window', async () => {
    const r = await ok<{ pairs: number }>(t, lead, 'GET', `/v1/reports/agreement?programId=${programId}&from=2020-01-01&to=${today}`);
    expect(r.pairs).toBe(0);
  });

  it('is for leads and evaluators of the program only', async () => {
    expectProblem(await call(t, sam, 'GET', agreementUrl(programId)), 403, 'auth.forbidden');
    expectProblem(await call(t, analyst, 'GET', agreementUrl(programId)), 403, 'auth.forbidden');
    expectProblem(await call(t, admin, 'GET', agreementUrl(programId)), 403, 'auth.forbidden');
    expectProblem(await call(t, other.evaluator, 'GET', agreementUrl(programId)), 404, 'program.not_found');
    expectProblem(
      await call(t, lead, 'GET', `/v1/reports/agreement?programId=${programId}&from=${tomorrow}&to=${today}`),
      400,
      'report.invalid_window',
    );
    expectProblem(await call(t, lead, 'GET', `${agreementUrl(programId)}&groupBy=ideology`), 400);
  });
});

type Snap = {
  id: string;
  programId: string;
  report: string;
  params: Record<string, unknown>;
  createdAt: string;
  createdBy: string;
  settingsVersion: number;
  body: Record<string, unknown>;
  prevHash: string;
  hash: string;
};

describe('report snapshots', () => {
  const made: Snap[] = [];

  it('freezes a report as it is now, with the settings version, chained to nothing before it', async () => {
    const res = await call(t, lead, 'POST', '/v1/reports/snapshots', engagement(programId));
    expect(res.statusCode).toBe(201);
    const s = res.json() as Snap;
    made.push(s);
    expect(s).toMatchObject({ report: 'engagement', programId, createdBy: lead.id, settingsVersion: 1, prevHash: GENESIS });
    expect(s.params).toEqual({ programId, from: '2020-01-01', to: tomorrow });
    expect(s.hash).toMatch(/^[0-9a-f]{64}$/);
    const live = await ok<{ rows: unknown[] }>(
      t,
      lead,
      'GET',
      `/v1/reports/engagement?programId=${programId}&from=2020-01-01&to=${tomorrow}`,
    );
    expect(s.body['rows']).toEqual(live.rows);
    expect(await auditCount(t, 'snapshot.create', lead.id)).toBe(1);
  });

  it('lets an evaluator freeze the agreement report, chained to the previous snapshot', async () => {
    const s = await ok<Snap>(t, evaluator, 'POST', '/v1/reports/snapshots', {
      report: 'agreement',
      params: { programId, from: today, to: tomorrow },
    });
    made.push(s);
    expect(s.prevHash).toBe(made[0]!.hash);
    expect(s.createdBy).toBe(evaluator.id);
    expect(s.body).toMatchObject({ pairs: 6, outcome: { kappa: expect.closeTo(0.6667, 4) } });
  });

  it('lets an evaluator freeze the engagement report', async () => {
    const res = await call(t, evaluator, 'POST', '/v1/reports/snapshots', engagement(programId));
    expect(res.statusCode).toBe(201);
    made.push(res.json() as Snap);
    expect(made[2]!.prevHash).toBe(made[1]!.hash);
  });

  it('records the settings version the report was computed under', async () => {
    await t.db.db.execute(sql`update programs set settings_version = 7 where id = ${programId}`);
    const s = await ok<Snap>(t, lead, 'POST', '/v1/reports/snapshots', {
      report: 'trend',
      params: { programId, from: today, to: tomorrow },
    });
    made.push(s);
    expect(s.settingsVersion).toBe(7);
    expect(s.params['interval']).toBe('day');
    expect(s.prevHash).toBe(made[2]!.hash);
  });

  it('reads one back exactly as it was made', async () => {
    for (const s of made) {
      expect(await ok<Snap>(t, evaluator, 'GET', `/v1/reports/snapshots/${s.id}`)).toEqual(s);
    }
  });

  it('lists newest first, a page at a time, without bodies', async () => {
    const first = await ok<{ items: Snap[]; nextCursor: string | null }>(
      t,
      evaluator,
      'GET',
      `/v1/reports/snapshots?programId=${programId}&limit=3`,
    );
    expect(first.items.map((s) => s.id)).toEqual([made[3]!.id, made[2]!.id, made[1]!.id]);
    expect(first.items[0]).not.toHaveProperty('body');
    expect(first.nextCursor).not.toBeNull();
    const second = await ok<{ items: Snap[]; nextCursor: string | null }>(
      t,
      lead,
      'GET',
      `/v1/reports/snapshots?programId=${programId}&limit=3&cursor=${first.nextCursor}`,
    );
    expect(second.items.map((s) => s.id)).toEqual([made[0]!.id]);
    expect(second.nextCursor).toBeNull();
    expect((await ok<{ items: Snap[] }>(t, other.lead, 'GET', `/v1/reports/snapshots?programId=${other.programId}`)).items).toEqual([]);
  });

  it('verifies: ok while nothing changed, false from a tampered snapshot onwards', async () => {
    for (const s of made) expect(await ok(t, evaluator, 'GET', `/v1/reports/snapshots/${s.id}/verify`)).toMatchObject({ ok: true });
    // A superuser edits the second snapshot's stored body (the kappa a funder would read).
    await t.db.db.execute(
      sql`update report_snapshots set body = jsonb_set(body, '{outcome,kappa}', '0.9'::jsonb) where id = ${made[1]!.id}`,
    );
    expect(await ok(t, lead, 'GET', `/v1/reports/snapshots/${made[0]!.id}/verify`)).toMatchObject({ ok: true, checked: 1 });
    expect(await ok(t, lead, 'GET', `/v1/reports/snapshots/${made[1]!.id}/verify`)).toMatchObject({ ok: false, checked: 2 });
    expect(await ok(t, lead, 'GET', `/v1/reports/snapshots/${made[3]!.id}/verify`)).toMatchObject({ ok: false, checked: 4 });
  });

  it('detects a changed settings version or author as well as a changed body', async () => {
    await t.db.db.execute(sql`update report_snapshots set settings_version = 2 where id = ${made[0]!.id}`);
    expect(await ok(t, lead, 'GET', `/v1/reports/snapshots/${made[0]!.id}/verify`)).toMatchObject({ ok: false });
  });

  it('replays an Idempotency-Key with the first response', async () => {
    const headers = { 'idempotency-key': `snap-${Date.now()}` };
    const a = await call(t, lead, 'POST', '/v1/reports/snapshots', engagement(programId), headers);
    const b = await call(t, lead, 'POST', '/v1/reports/snapshots', engagement(programId), headers);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json()).toEqual(a.json());
    expectProblem(
      await call(t, lead, 'POST', '/v1/reports/snapshots', { report: 'trend', params: { programId, from: today, to: tomorrow } }, headers),
      422,
    );
  });

  it('refuses hostile or wrong parameters with 400', async () => {
    const bad: [unknown, string?][] = [
      [{ report: 'engagement', params: { programId, from: '2020-01-01', to: tomorrow, format: 'csv' } }],
      [{ report: 'engagement', params: { programId, from: '2020-01-01', to: tomorrow, groupBy: 'handle' } }],
      [{ report: 'trend', params: { programId, from: today, to: tomorrow, groupBy: 'ideology' } }],
      [{ report: 'agreement', params: { programId: 'not-a-uuid', from: today, to: tomorrow } }],
      [{ report: 'agreement', params: { programId, from: '2026-02-30', to: tomorrow } }],
      [{ report: 'agreement', params: { programId, from: '1999-12-31', to: tomorrow } }],
      [{ report: 'agreement', params: { programId, from: tomorrow, to: today } }, 'report.invalid_window'],
      [{ report: 'agreement', params: { programId, from: `${today}\u0000`, to: tomorrow } }],
      [{ report: 'agreement', params: { programId, from: today, to: tomorrow }, extra: true }],
      [{ report: 'audit', params: { programId } }],
      [{ report: 'agreement' }],
      // A trial is named by its id alone; assessments need their template and a window.
      [{ report: 'trial', params: { programId } }],
      [{ report: 'trial', params: { trialId: 'not-a-uuid' } }],
      [{ report: 'assessments', params: { programId, from: today, to: tomorrow } }],
      [{ report: 'assessments', params: { programId, templateId: programId, from: tomorrow, to: today } }, 'report.invalid_window'],
    ];
    for (const [body, code] of bad) expectProblem(await call(t, lead, 'POST', '/v1/reports/snapshots', body), 400, code);
    // A trial nobody has is missing, not a 500.
    expectProblem(
      await call(t, lead, 'POST', '/v1/reports/snapshots', {
        report: 'trial',
        params: { trialId: '0193a1e0-5b2c-7a31-8f4e-6d2b9c0e1a01' },
      }),
      404,
      'trial.not_found',
    );
  });

  it('is for leads and evaluators of the program: others get 403, another program 404', async () => {
    for (const who of [sam, analyst, admin]) {
      expectProblem(await call(t, who, 'POST', '/v1/reports/snapshots', engagement(programId)), 403, 'auth.forbidden');
      expectProblem(await call(t, who, 'GET', `/v1/reports/snapshots/${made[0]!.id}`), 403, 'auth.forbidden');
      expectProblem(await call(t, who, 'GET', `/v1/reports/snapshots?programId=${programId}`), 403, 'auth.forbidden');
    }
    for (const who of [other.lead, other.evaluator]) {
      expectProblem(await call(t, who, 'POST', '/v1/reports/snapshots', engagement(programId)), 404, 'program.not_found');
      expectProblem(await call(t, who, 'GET', `/v1/reports/snapshots/${made[0]!.id}`), 404, 'snapshot.not_found');
      expectProblem(await call(t, who, 'GET', `/v1/reports/snapshots/${made[0]!.id}/verify`), 404, 'snapshot.not_found');
      expectProblem(await call(t, who, 'GET', `/v1/reports/snapshots?programId=${programId}`), 404, 'program.not_found');
    }
    expectProblem(await call(t, lead, 'GET', `/v1/reports/snapshots/${uuidv7()}`), 404, 'snapshot.not_found');
    expectProblem(
      await call(t, lead, 'GET', `/v1/reports/snapshots?programId=${programId}&cursor=bogus`),
      400,
      'pagination.invalid_cursor',
    );
  });
});
