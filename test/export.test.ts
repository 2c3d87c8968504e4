import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../src/db/schema/index.js';
import { generalise, isoWeek, pseudonym } from '../src/domain/reports/export.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, ok } from './helpers/story.js';

describe('ISO weeks', () => {
  it('numbers weeks by the ISO week-numbering year, across year boundaries', () => {
    const cases: [string, string][] = [
      ['2026-11-26T12:00:00Z', '2026-W48'],
      ['2026-12-31T23:59:59Z', '2026-W53'], // a Thursday: 2026 has 53 weeks
      ['2027-01-01T00:00:00Z', '2026-W53'], // Friday 1 January belongs to the last week of 2026
      ['2027-01-04T00:00:00Z', '2027-W01'],
      ['2024-12-30T10:00:00Z', '2025-W01'], // Monday 30 December is in week 1 of 2025
      ['2021-01-03T12:00:00Z', '2020-W53'], // Sunday 3 January is in week 53 of 2020
      ['2021-01-04T00:00:00Z', '2021-W01'],
      ['2008-12-29T00:00:00Z', '2009-W01'],
      ['2010-01-03T00:00:00Z', '2009-W53'],
    ];
    for (const [at, week] of cases) expect(isoWeek(new Date(at)), at).toBe(week);
  });
});

describe('k-anonymity generalisation', () => {
  const row = (ideology: string, platform: string, language: string | null, riskLevel = 'medium') => ({
    ideology,
    platform,
    language,
    riskLevel,
  });
  it('generalises language, then platform, only for rows in classes under k', () => {
    const rows = [
      row('far_right', 'x', 'en'),
      row('far_right', 'x', 'en'),
      row('islamist', 'telegram', 'de', 'high'),
      row('islamist', 'telegram', 'fr', 'high'),
      row('far_right', 'reddit', 'es', 'low'),
      row('far_right', 'x', null),
    ];
    expect(generalise(rows, 2)).toEqual([
      row('far_right', 'x', 'en'),
      row('far_right', 'x', 'en'),
      // Each alone; merged by language they are two: the platform stays.
      row('islamist', 'telegram', 'other', 'high'),
      row('islamist', 'telegram', 'other', 'high'),
      // Alone even with language "other": platform too.
      row('far_right', 'other', 'other', 'low'),
      row('far_right', 'other', 'other'),
    ]);
    expect(generalise(rows, 1)).toEqual(rows);
  });
});

describe('pseudonyms', () => {
  it('are stable for one caller, different for another, 16 hex digits', () => {
    const a = pseudonym('s', '0193a1e0-0000-7000-8000-000000000001', '0193a1e0-0000-7000-8000-0000000000aa');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(pseudonym('s', '0193A1E0-0000-7000-8000-000000000001', '0193a1e0-0000-7000-8000-0000000000aa')).toBe(a);
    expect(pseudonym('s', '0193a1e0-0000-7000-8000-000000000002', '0193a1e0-0000-7000-8000-0000000000aa')).not.toBe(a);
    expect(pseudonym('other secret', '0193a1e0-0000-7000-8000-000000000001', '0193a1e0-0000-7000-8000-0000000000aa')).not.toBe(a);
  });
});

type Row = Record<string, unknown>;
let t: TestApp;
let programId: string;
let lead: Who;
let evaluator: Who;
let evaluator2: Who;
let sam: Who;
let analyst: Who;
/** Every handle, URL, display name and free text this file writes. */
const secrets: string[] = [];
const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
const exportUrl = (format = 'json') => `/v1/exports/cases?programId=${programId}&from=2020-01-01&to=${tomorrow}&format=${format}`;
let n = 0;

function written(s: string) {
  secrets.push(s);
  return s;
}

/** Flags a case whose profile and indicators carry text that must never be exported. */
function body(extra: { ideology?: string; riskLevel?: string; platform?: string; language?: string; flaggedAt?: string } = {}) {
  n++;
  return {
    programId,
    profile: {
      platform: extra.platform ?? 'x',
      handle: written(`exh${n}_${Math.random().toString(36).slice(2, 8).padEnd(6, 'q')}`),
      url: written(`https://example.org/profiles/exporturl${n}`),
      displayName: written(`Display Name Export${n}`),
      language: extra.language ?? 'en',
    },
    ideology: extra.ideology ?? 'far_right',
    riskLevel: extra.riskLevel ?? 'medium',
    indicators: [
      {
        kind: 'shares_propaganda',
        evidenceUrl: written(`https://example.org/evidence/exportpost${n}`),
        note: written(`indicator note ${n} xyzzy`),
      },
    ],
    ...(extra.flaggedAt ? { flaggedAt: extra.flaggedAt } : {}),
  };
}

let worked: string;
let erasedId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, evaluator, evaluator2, sam, analyst } = await cast(
    t,
    { lead: 'lead', evaluator: 'evaluator', evaluator2: 'evaluator', sam: 'intervener', analyst: 'analyst' },
    { minCellSize: 2 },
  ));
  // A worked case flagged on Monday 30 December 2024 (ISO 2025-W01): contacted, answered, closed with a note.
  const a = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', body({ flaggedAt: '2024-12-30T10:00:00Z' }));
  await ok(t, lead, 'POST', `/v1/cases/${a.id}/triage`, { decision: 'accept', reason: written('triage reason exportqq') });
  await ok(t, lead, 'POST', `/v1/cases/${a.id}/approve`, {});
  await ok(t, lead, 'POST', `/v1/cases/${a.id}/assignment`, { intervenerId: sam.id });
  const at = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
  await ok(t, sam, 'POST', `/v1/cases/${a.id}/touchpoints`, {
    direction: 'outbound',
    channel: 'paid_message',
    occurredAt: at(60),
    approaches: ['empathetic'],
    summary: written('outbound summary exportzz'),
  });
  await ok(t, sam, 'POST', `/v1/cases/${a.id}/touchpoints`, {
    direction: 'inbound',
    channel: 'paid_message',
    occurredAt: at(30),
    summary: written('inbound summary exportww'),
  });
  await ok(t, sam, 'POST', `/v1/cases/${a.id}/notes`, { kind: 'general', body: written('case note body exportvv'), visibility: 'case' });
  await ok(t, lead, 'POST', `/v1/cases/${a.id}/close`, { outcome: 'positive_change', note: written('closing note exportuu') });
  worked = a.id;
  // Flagged on Sunday 3 January 2021 (ISO 2020-W53), same class as the worked case.
  await ok(t, lead, 'POST', '/v1/cases', body({ flaggedAt: '2021-01-03T12:00:00Z' }));
  // Two islamist/telegram/high cases in different languages: each alone, together once language is "other".
  await ok(t, lead, 'POST', '/v1/cases', body({ ideology: 'islamist', platform: 'telegram', riskLevel: 'high', language: 'de' }));
  await ok(t, lead, 'POST', '/v1/cases', body({ ideology: 'islamist', platform: 'telegram', riskLevel: 'high', language: 'fr' }));
  // Alone even with language "other": platform "other" too.
  await ok(t, lead, 'POST', '/v1/cases', body({ platform: 'reddit', riskLevel: 'low', language: 'es' }));
  // An erased case, assigned first so it had a holder.
  const e = await activeCase(t, lead, programId, sam.id, body());
  await ok(t, lead, 'POST', `/v1/cases/${e.id}/erase`, { reason: written('erasure reason exporttt') });
  erasedId = e.id;
});
afterAll(() => t.close());

describe('GET /v1/exports/cases', () => {
  let rows: Row[];

  it('gives one row per case flagged in the window with exactly the listed fields', async () => {
    ({ rows } = await ok<{ rows: Row[] }>(t, evaluator, 'GET', exportUrl()));
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(
        [
          'pseudoId',
          'ideology',
          'platform',
          'language',
          'riskLevel',
          'status',
          'stage',
          'flaggedWeek',
          'contactedWeek',
          'respondedWeek',
          'sustainedWeek',
          'closedWeek',
          'touchpoints',
          'inbound',
          'outbound',
          'firstOutboundApproaches',
          'outcome',
          'outcomeStatus',
          'signals',
          'trialArm',
          'holderPseudoId',
        ].sort(),
      );
    }
    const a = rows[1]!; // oldest first: 2021 case, then the 2024 one
    expect(rows[0]!['flaggedWeek']).toBe('2020-W53');
    expect(a).toMatchObject({
      ideology: 'far_right',
      platform: 'x',
      language: 'en',
      riskLevel: 'medium',
      status: 'closed',
      stage: 'responded',
      flaggedWeek: '2025-W01',
      contactedWeek: isoWeek(new Date()),
      respondedWeek: isoWeek(new Date()),
      closedWeek: isoWeek(new Date()),
      sustainedWeek: null,
      touchpoints: 2,
      inbound: 1,
      outbound: 1,
      firstOutboundApproaches: ['empathetic'],
      outcome: 'positive_change',
      outcomeStatus: 'self_reported',
      signals: [],
      trialArm: null,
    });
    expect(a['pseudoId']).toMatch(/^[0-9a-f]{16}$/);
    expect(a['holderPseudoId']).toMatch(/^[0-9a-f]{16}$/);
    expect(a['pseudoId']).not.toBe(worked);
  });

  it('generalises language, then platform, below minCellSize', () => {
    const byRisk = (risk: string) => rows.filter((r) => r['riskLevel'] === risk);
    expect(byRisk('high').map((r) => [r['platform'], r['language']])).toEqual([
      ['telegram', 'other'],
      ['telegram', 'other'],
    ]);
    expect(byRisk('low').map((r) => [r['platform'], r['language']])).toEqual([['other', 'other']]);
  });

  it('exports an erased case with its anonymous counts only', () => {
    const erased = rows.filter((r) => r['pseudoId'] === null);
    expect(erased).toHaveLength(1);
    // Its language is gone (null), a class of one: generalised like any other small class.
    expect(erased[0]).toMatchObject({
      holderPseudoId: null,
      language: 'other',
      platform: 'other',
      status: 'closed',
      ideology: 'far_right',
      touchpoints: 0,
    });
  });

  it('keys pseudonyms to the caller: stable for one, different for another', async () => {
    const again = (await ok<{ rows: Row[] }>(t, evaluator, 'GET', exportUrl())).rows;
    expect(again.map((r) => r['pseudoId'])).toEqual(rows.map((r) => r['pseudoId']));
    expect(again.map((r) => r['holderPseudoId'])).toEqual(rows.map((r) => r['holderPseudoId']));
    const theirs = (await ok<{ rows: Row[] }>(t, evaluator2, 'GET', exportUrl())).rows;
    const mine = new Set(rows.flatMap((r) => [r['pseudoId'], r['holderPseudoId']]).filter((v) => v !== null));
    for (const r of theirs) {
      if (r['pseudoId'] !== null) expect(mine.has(r['pseudoId'])).toBe(false);
      if (r['holderPseudoId'] !== null) expect(mine.has(r['holderPseudoId'])).toBe(false);
    }
    expect(theirs.filter((r) => r['pseudoId'] !== null)).toHaveLength(5);
    const leads = (await ok<{ rows: Row[] }>(t, lead, 'GET', exportUrl())).rows;
    expect(leads[1]!['pseudoId']).not.toBe(rows[1]!['pseudoId']);
  });

  it('never carries a handle, URL, display name, free text, id or exact time, in JSON or CSV', async () => {
    const json = (await call(t, evaluator, 'GET', exportUrl())).body;
    const csvRes = await call(t, evaluator, 'GET', exportUrl('csv'));
    expect(csvRes.statusCode).toBe(200);
    expect(String(csvRes.headers['content-type'])).toMatch(/^text\/csv/);
    const csv = csvRes.body;
    expect(secrets.length).toBeGreaterThanOrEqual(30);
    for (const raw of [json, csv]) {
      for (const s of secrets) expect(raw).not.toContain(s);
      for (const s of secrets) expect(raw.toLowerCase()).not.toContain(s.toLowerCase().replace(/^@/, ''));
      expect(raw).not.toMatch(/https?:/);
      expect(raw).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      for (const id of [worked, erasedId, sam.id, lead.id]) expect(raw.toLowerCase()).not.toContain(id.toLowerCase());
    }
    const lines = csv.trim().split('\r\n');
    expect(lines[0]!.split(',')).toContain('pseudoId');
    expect(lines).toHaveLength(7);
    expect(lines[2]).toContain(',empathetic,positive_change,self_reported,');
  });

  it('is audited with its row count (every exported case)', async () => {
    const entries = await t.db.db
      .select({ caseIds: auditLog.caseIds, programId: auditLog.programId })
      .from(auditLog)
      .where(and(eq(auditLog.action, 'export.cases'), eq(auditLog.actorId, evaluator2.id)));
    expect(entries).toHaveLength(1);
    expect(entries[0]!.programId).toBe(programId);
    expect(entries[0]!.caseIds).toHaveLength(6);
    expect(entries[0]!.caseIds).toContain(worked);
    expect(entries[0]!.caseIds).toContain(erasedId);
  });

  it('is for leads and evaluators of the program only, with a valid window', async () => {
    expectProblem(await call(t, sam, 'GET', exportUrl()), 403, 'auth.forbidden');
    expectProblem(await call(t, analyst, 'GET', exportUrl()), 403, 'auth.forbidden');
    const admin = await t.staff('admin', null);
    expectProblem(await call(t, admin, 'GET', exportUrl()), 403, 'auth.forbidden');
    const other = await cast(t, { evaluator: 'evaluator' });
    expectProblem(await call(t, other.evaluator, 'GET', exportUrl()), 404, 'program.not_found');
    expectProblem(
      await call(t, evaluator, 'GET', `/v1/exports/cases?programId=${programId}&from=${tomorrow}&to=2020-01-01`),
      400,
      'report.invalid_window',
    );
    expectProblem(await call(t, evaluator, 'GET', `${exportUrl()}&handle=x`), 400);
    expectProblem(await call(t, evaluator, 'GET', exportUrl('xml')), 400);
    const empty = await ok<{ rows: Row[] }>(t, evaluator, 'GET', `/v1/exports/cases?programId=${programId}&from=2020-01-01&to=2020-01-02`);
    expect(empty.rows).toEqual([]);
  });
});
