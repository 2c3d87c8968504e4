import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeFrom, completeScores, factorFigure, pairedChanges, unknownFactor } from '../src/domain/assessments/rules.js';
import { hasBaselineAssessment } from '../src/domain/assessments/store.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, flagBody, ok } from './helpers/story.js';

interface Template {
  id: string;
  programId: string;
  name: string;
  version: number;
  factors: { key: string; label: string }[];
  createdAt: string;
}
interface Assessment {
  id: string;
  caseId: string;
  templateId: string;
  phase: string;
  scores: Record<string, number | null>;
  note: string | null;
  assessedBy: string;
  createdAt: string;
  change: Record<string, number | null>;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface FactorFigureOut {
  key: string;
  label: string;
  pairs: number | null;
  meanChange: number | null;
  ci95: [number, number] | null;
}
interface Report {
  templateId: string;
  factors: FactorFigureOut[];
  asOf: string;
  definition: Record<string, string | number>;
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const mark = (tag: string) => `${tag}-${randomBytes(5).toString('hex')}`;
const templatesUrl = (programId: string) => `/v1/programs/${programId}/assessment-templates`;
const assessmentsUrl = (caseId: string) => `/v1/cases/${caseId}/assessments`;
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const FACTORS = [
  { key: 'isolation', label: 'Social isolation' },
  { key: 'grievance', label: 'Expressed grievance' },
  { key: 'us_them', label: 'Us-versus-them language' },
];
const newTemplate = (lead: Who, programId: string, name = mark('Review'), factors = FACTORS) =>
  ok<Template>(t, lead, 'POST', templatesUrl(programId), { name, factors });
const assess = (who: Who, caseId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  ok<Assessment>(t, who, 'POST', assessmentsUrl(caseId), body, headers);
const count = async (table: 'assessments' | 'assessment_templates', column: 'case_id' | 'program_id', id: string) =>
  (await t.db.pool.query<{ n: number }>(`select count(*)::int as n from ${table} where ${column} = $1`, [id])).rows[0]!.n;

/** Every row of every table, every text-like column, searched for `needle` (as test/privacy.test.ts does). */
async function findEverywhere(needle: string): Promise<string[]> {
  const { rows: columns } = await t.db.pool.query<{ table_schema: string; table_name: string; column_name: string }>(
    `select c.table_schema, c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name and tb.table_type = 'BASE TABLE'
      where c.table_schema not in ('pg_catalog', 'information_schema')
        and (c.data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea') or c.udt_name in ('text', 'varchar', 'jsonb'))`,
  );
  expect(columns.some((c) => c.table_name === 'assessments' && c.column_name === 'note')).toBe(true);
  const hits: string[] = [];
  for (const c of columns) {
    const q = `select count(*)::int as n from "${c.table_schema}"."${c.table_name}" where "${c.column_name}"::text ilike $1`;
    const { rows } = await t.db.pool.query<{ n: number }>(q, [`%${needle}%`]);
    if (rows[0]!.n > 0) hits.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
  }
  return hits;
}

describe('assessment rules', () => {
  const factors = FACTORS;
  it('fills every factor in template order, null where left out, and names a key the template lacks', () => {
    expect(completeScores(factors, { us_them: 1, isolation: 0 })).toEqual({ isolation: 0, grievance: null, us_them: 1 });
    expect(Object.keys(completeScores(factors, {}))).toEqual(['isolation', 'grievance', 'us_them']);
    expect(completeScores(factors, { grievance: null })).toEqual({ isolation: null, grievance: null, us_them: null });
    expect(unknownFactor(factors, { isolation: 1, other: 2 })).toBe('other');
    expect(unknownFactor(factors, { isolation: 1 })).toBeNull();
    expect(unknownFactor(factors, {})).toBeNull();
  });

  it('changes by factor against the previous scores; null when either is unknown or there is none', () => {
    expect(changeFrom({ a: 3, b: 0, c: null, d: 2 }, { a: 1, b: 2, c: 1, d: null })).toEqual({ a: 2, b: -2, c: null, d: null });
    expect(changeFrom({ a: 3, b: null }, null)).toEqual({ a: null, b: null });
  });

  it('pairs closure with baseline per factor, only where both are known', () => {
    const fs = [
      { key: 'a', label: 'A' },
      { key: 'b', label: 'B' },
    ];
    const changes = pairedChanges(fs, [
      { caseId: '1', baseline: { a: 3, b: null }, closure: { a: 1, b: 2 } },
      { caseId: '2', baseline: { a: 0, b: 1 }, closure: { a: 2, b: 1 } },
      // A closure on an older version of the template may lack a key: unknown, not zero.
      { caseId: '3', baseline: { a: 1, b: 2 }, closure: { a: null } },
    ]);
    expect(changes).toEqual(
      new Map([
        ['a', [-2, 2]],
        ['b', [0]],
      ]),
    );
  });

  it('suppresses a factor with some but fewer than minCellSize pairs; none at all is pairs 0', () => {
    const f = { key: 'a', label: 'A' };
    expect(factorFigure(f, [1, 2], 3)).toEqual({ key: 'a', label: 'A', pairs: null, meanChange: null, ci95: null });
    expect(factorFigure(f, [], 3)).toEqual({ key: 'a', label: 'A', pairs: 0, meanChange: null, ci95: null });
    expect(factorFigure(f, [-2], 1)).toEqual({ key: 'a', label: 'A', pairs: 1, meanChange: -2, ci95: null });
    // 0, 1, 1, 2: mean 1, s² = (1 + 0 + 0 + 1)/3 = 0.666667, se = √(0.666667/4) = 0.408248;
    // t(0.975, df 3) = 3.1824 (standard t table) → half-width 1.29921 → [-0.2992, 2.2992].
    expect(factorFigure(f, [0, 1, 1, 2], 3)).toEqual({ key: 'a', label: 'A', pairs: 4, meanChange: 1, ci95: [-0.2992, 2.2992] });
  });
});

describe('assessment templates', () => {
  it('a lead creates templates: a name again is its next version, another name starts at 1, and each stays as it was', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const res = await call(t, lead, 'POST', templatesUrl(p), { name: '  Vulnerability review  ', factors: FACTORS });
    expect(res.statusCode, res.body).toBe(201);
    const first = res.json<Template>();
    expect(first).toEqual({
      id: expect.any(String),
      programId: p,
      name: 'Vulnerability review',
      version: 1,
      factors: FACTORS,
      createdAt: expect.any(String),
    });
    const second = await newTemplate(lead, p, 'Vulnerability review', [{ key: 'isolation', label: 'Isolation (revised)' }]);
    expect(second).toMatchObject({
      name: 'Vulnerability review',
      version: 2,
      factors: [{ key: 'isolation', label: 'Isolation (revised)' }],
    });
    const other = await newTemplate(lead, p, 'Strengths');
    expect(other.version).toBe(1);
    // The same name in another program is that program's own first version.
    const elsewhere = await cast(t, { lead: 'lead' });
    expect((await newTemplate(elsewhere.lead, elsewhere.programId, 'Vulnerability review')).version).toBe(1);

    const list = await ok<Page<Template>>(t, lead, 'GET', templatesUrl(p));
    expect(list).toEqual({ items: [first, second, other], nextCursor: null });
    // Immutable: there is no route that changes or deletes one.
    for (const method of ['PATCH', 'DELETE'] as const) {
      expectProblem(await call(t, lead, method, `${templatesUrl(p)}/${first.id}`, method === 'PATCH' ? { name: 'x' } : undefined), 404);
    }
    expect((await ok<Page<Template>>(t, lead, 'GET', templatesUrl(p))).items[0]).toEqual(first);
  });

  it('concurrent creates of one name take distinct versions', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => call(t, lead, 'POST', templatesUrl(p), { name: 'Raced', factors: FACTORS })),
    );
    for (const r of results) expect(r.statusCode, r.body).toBe(201);
    expect(results.map((r) => r.json<Template>().version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('is listed for the program’s case workers and evaluators, page by page; never for another program or an admin', async () => {
    const {
      programId: p,
      lead,
      analyst,
      sam,
      evaluator,
      admin,
    } = await cast(t, {
      lead: 'lead',
      analyst: 'analyst',
      sam: 'intervener',
      evaluator: 'evaluator',
      admin: 'admin',
    });
    const a = await newTemplate(lead, p);
    const b = await newTemplate(lead, p);
    for (const who of [lead, analyst, sam, evaluator]) {
      expect((await ok<Page<Template>>(t, who, 'GET', templatesUrl(p))).items.map((x) => x.id)).toEqual([a.id, b.id]);
    }
    const page1 = await ok<Page<Template>>(t, sam, 'GET', `${templatesUrl(p)}?limit=1`);
    expect(page1.items.map((x) => x.id)).toEqual([a.id]);
    const page2 = await ok<Page<Template>>(t, sam, 'GET', `${templatesUrl(p)}?limit=1&cursor=${page1.nextCursor}`);
    expect(page2).toEqual({ items: [b], nextCursor: null });
    expectProblem(await call(t, sam, 'GET', `${templatesUrl(p)}?cursor=nope`), 400, 'pagination.invalid_cursor');

    expectProblem(await call(t, admin, 'GET', templatesUrl(p)), 403, 'auth.forbidden');
    const other = await cast(t, { lead: 'lead', sam: 'intervener' });
    for (const who of [other.lead, other.sam]) expectProblem(await call(t, who, 'GET', templatesUrl(p)), 404, 'program.not_found');
    expectProblem(await call(t, lead, 'GET', templatesUrl(randomUUID())), 404, 'program.not_found');
    expectProblem(await call(t, lead, 'GET', templatesUrl('not-a-uuid')), 400, 'request.invalid');
  });

  it('only a lead of the program creates one; refused bodies store nothing', async () => {
    const {
      programId: p,
      lead,
      analyst,
      sam,
      evaluator,
      admin,
    } = await cast(t, {
      lead: 'lead',
      analyst: 'analyst',
      sam: 'intervener',
      evaluator: 'evaluator',
      admin: 'admin',
    });
    const body = { name: 'Mine', factors: FACTORS };
    for (const who of [analyst, sam, evaluator, admin])
      expectProblem(await call(t, who, 'POST', templatesUrl(p), body), 403, 'auth.forbidden');
    const other = await cast(t, { lead: 'lead' });
    expectProblem(await call(t, other.lead, 'POST', templatesUrl(p), body), 404, 'program.not_found');
    expectProblem(await call(t, lead, 'POST', templatesUrl(randomUUID()), body), 404, 'program.not_found');

    const factor = (key: unknown, label: unknown = 'A label') => ({ key, label });
    const refused: [unknown, string][] = [
      [{ name: 'x', factors: [factor('a'), factor('a')] }, 'body.factors'],
      [{ name: 'x', factors: [] }, 'body.factors'],
      [{ name: 'x', factors: Array.from({ length: 31 }, (_, i) => factor(`f${i}`)) }, 'body.factors'],
      [{ name: 'x', factors: [factor('Upper')] }, 'body.factors.0.key'],
      [{ name: 'x', factors: [factor('1st')] }, 'body.factors.0.key'],
      [{ name: 'x', factors: [factor('has space')] }, 'body.factors.0.key'],
      [{ name: 'x', factors: [factor(`a${'b'.repeat(40)}`)] }, 'body.factors.0.key'],
      [{ name: 'x', factors: [factor('__proto__')] }, 'body.factors.0.key'],
      [{ name: 'x', factors: [factor(3)] }, 'body.factors.0.key'],
      [{ name: 'x', factors: [factor('a', '')] }, 'body.factors.0.label'],
      [{ name: 'x', factors: [factor('a', 'l'.repeat(201))] }, 'body.factors.0.label'],
      [{ name: 'x', factors: [factor('a', 'two\nlines')] }, 'body.factors.0.label'],
      [{ name: 'x', factors: [{ ...factor('a'), weight: 2 }] }, 'body.factors.0'],
      [{ name: '   ', factors: [factor('a')] }, 'body.name'],
      [{ name: 'n'.repeat(201), factors: [factor('a')] }, 'body.name'],
      [{ name: 'bad\u0000name', factors: [factor('a')] }, 'body.name'],
      [{ name: 'bidi\u202Ename', factors: [factor('a')] }, 'body.name'],
      [{ factors: [factor('a')] }, 'body'],
      [{ name: 'x', factors: [factor('a')], version: 7 }, 'body'],
      [{ name: 'x', factors: { a: 'A' } }, 'body.factors'],
    ];
    for (const [payload, path] of refused) {
      const res = await call(t, lead, 'POST', templatesUrl(p), payload);
      const problem = expectProblem(res, 400, 'request.invalid') as { errors: { path: string }[] };
      expect(
        problem.errors.some((e) => e.path === path || e.path.startsWith(`${path}.`)),
        `${JSON.stringify(payload).slice(0, 80)}: ${res.body}`,
      ).toBe(true);
    }
    const truncated = await t.app.inject({
      method: 'POST',
      url: templatesUrl(p),
      headers: { ...lead.auth, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expectProblem(truncated, 400, 'request.invalid_json');
    expect(await count('assessment_templates', 'program_id', p)).toBe(0);
  });

  it('is idempotent with an Idempotency-Key, and audited', async () => {
    const { programId: p, lead } = await cast(t, { lead: 'lead' });
    const key = { 'idempotency-key': `tpl-${randomUUID()}` };
    const first = await call(t, lead, 'POST', templatesUrl(p), { name: 'Keyed', factors: FACTORS }, key);
    const again = await call(t, lead, 'POST', templatesUrl(p), { name: 'Keyed', factors: FACTORS }, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expectProblem(await call(t, lead, 'POST', templatesUrl(p), { name: 'Other', factors: FACTORS }, key), 422, 'idempotency.key_reused');
    expect(await count('assessment_templates', 'program_id', p)).toBe(1);
    expect(await auditCount(t, 'assessment_template.create', lead.id)).toBe(1);
  });
});

describe('assessments of a case', () => {
  it('the holder records one: factors left out are unknown, the first has no change, the next one changes against it', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const tpl = await newTemplate(lead, p);
    const c = await activeCase(t, lead, p, sam.id);
    const res = await call(t, sam, 'POST', assessmentsUrl(c.id), {
      templateId: tpl.id,
      phase: 'baseline',
      scores: { isolation: 3, grievance: 2 },
      note: '  Posts mostly at night.  ',
    });
    expect(res.statusCode, res.body).toBe(201);
    const baseline = res.json<Assessment>();
    expect(baseline).toEqual({
      id: expect.any(String),
      caseId: c.id,
      templateId: tpl.id,
      phase: 'baseline',
      scores: { isolation: 3, grievance: 2, us_them: null },
      note: 'Posts mostly at night.',
      assessedBy: sam.id,
      createdAt: expect.any(String),
      change: { isolation: null, grievance: null, us_them: null },
    });
    const review = await assess(lead, c.id, { templateId: tpl.id, phase: 'review', scores: { isolation: 1, grievance: 2, us_them: 1 } });
    expect(review).toMatchObject({ assessedBy: lead.id, note: null, change: { isolation: -2, grievance: 0, us_them: null } });
    const closure = await assess(sam, c.id, { templateId: tpl.id, phase: 'closure', scores: { isolation: 0, us_them: 0 }, note: '' });
    expect(closure).toMatchObject({ note: null, scores: { isolation: 0, grievance: null, us_them: 0 } });
    expect(closure.change).toEqual({ isolation: -1, grievance: null, us_them: -1 });

    const list = await ok<Page<Assessment>>(t, sam, 'GET', assessmentsUrl(c.id));
    expect(list).toEqual({ items: [baseline, review, closure], nextCursor: null });
    expect(await ok<Page<Assessment>>(t, lead, 'GET', assessmentsUrl(c.id))).toEqual(list);
    expect(await hasBaselineAssessment(t.db.db, c.id)).toBe(true);
  });

  it('change is against the previous assessment on the same template only, across pages too', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const a = await newTemplate(lead, p, 'A', [
      { key: 'x', label: 'X' },
      { key: 'y', label: 'Y' },
    ]);
    const b = await newTemplate(lead, p, 'B', [
      { key: 'x', label: 'X' },
      { key: 'z', label: 'Z' },
    ]);
    const c = await activeCase(t, lead, p, sam.id);
    expect(await hasBaselineAssessment(t.db.db, c.id)).toBe(false);
    const a1 = await assess(sam, c.id, { templateId: a.id, phase: 'review', scores: { x: 3, y: 0 } });
    const b1 = await assess(sam, c.id, { templateId: b.id, phase: 'baseline', scores: { x: 0, z: 2 } });
    const a2 = await assess(sam, c.id, { templateId: a.id, phase: 'review', scores: { x: 1, y: 3 } });
    const b2 = await assess(sam, c.id, { templateId: b.id, phase: 'closure', scores: { x: 2, z: null } });
    const a3 = await assess(sam, c.id, { templateId: a.id, phase: 'closure', scores: { x: 1 } });
    expect(await hasBaselineAssessment(t.db.db, c.id)).toBe(true);
    // b1 follows a1 but is the first on B; a2 is against a1 (not b1), b2 against b1 (not a2).
    expect(a1.change).toEqual({ x: null, y: null });
    expect(b1.change).toEqual({ x: null, z: null });
    expect(a2.change).toEqual({ x: -2, y: 3 });
    expect(b2.change).toEqual({ x: 2, z: null });
    expect(a3.change).toEqual({ x: 0, y: null });

    const seen: Assessment[] = [];
    let cursor: string | null = null;
    do {
      const pageOf: Page<Assessment> = await ok<Page<Assessment>>(
        t,
        sam,
        'GET',
        `${assessmentsUrl(c.id)}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(pageOf.items.length).toBeLessThanOrEqual(2);
      seen.push(...pageOf.items);
      cursor = pageOf.nextCursor;
    } while (cursor);
    expect(seen).toEqual([a1, b1, a2, b2, a3]);
    expectProblem(await call(t, sam, 'GET', `${assessmentsUrl(c.id)}?cursor=${Buffer.from('["x"]').toString('base64url')}`), 400);
  });

  it('an analyst records a baseline on a case in triage, and nothing later; other roles and callers are refused', async () => {
    const {
      programId: p,
      lead,
      analyst,
      sam,
      kim,
      evaluator,
      admin,
    } = await cast(t, {
      lead: 'lead',
      analyst: 'analyst',
      sam: 'intervener',
      kim: 'intervener',
      evaluator: 'evaluator',
      admin: 'admin',
    });
    const tpl = await newTemplate(lead, p);
    const flagged = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(p));
    const base = await assess(analyst, flagged.id, { templateId: tpl.id, phase: 'baseline', scores: { isolation: 2 } });
    expect(base).toMatchObject({ assessedBy: analyst.id, phase: 'baseline' });
    expect((await ok<Page<Assessment>>(t, analyst, 'GET', assessmentsUrl(flagged.id))).items).toEqual([base]);
    // The answer depends on the role alone: the same for a case in their scope, out of it, or none.
    const c = await activeCase(t, lead, p, sam.id);
    for (const caseId of [flagged.id, c.id, randomUUID()]) {
      for (const phase of ['review', 'closure']) {
        expectProblem(
          await call(t, analyst, 'POST', assessmentsUrl(caseId), { templateId: tpl.id, phase, scores: {} }),
          403,
          'assessment.phase_not_allowed',
        );
      }
    }
    // Past triage the case is out of the analyst's scope.
    const body = { templateId: tpl.id, phase: 'baseline', scores: { isolation: 1 } };
    expectProblem(await call(t, analyst, 'POST', assessmentsUrl(c.id), body), 404, 'case.not_found');
    expectProblem(await call(t, analyst, 'GET', assessmentsUrl(c.id)), 404, 'case.not_found');
    // Another intervener's case, a case of another program, a missing one: 404, as if it did not exist.
    const other = await cast(t, { lead: 'lead', ian: 'intervener' });
    const foreign = await activeCase(t, other.lead, other.programId, other.ian.id);
    for (const caseId of [c.id, foreign.id, randomUUID()]) {
      expectProblem(await call(t, kim, 'POST', assessmentsUrl(caseId), body), 404, 'case.not_found');
      expectProblem(await call(t, kim, 'GET', assessmentsUrl(caseId)), 404, 'case.not_found');
    }
    expectProblem(await call(t, lead, 'POST', assessmentsUrl(foreign.id), body), 404, 'case.not_found');
    expectProblem(await call(t, lead, 'GET', assessmentsUrl(foreign.id)), 404, 'case.not_found');
    // An evaluator sees no case contents (404 as if missing); an admin may never (403).
    expectProblem(await call(t, evaluator, 'POST', assessmentsUrl(c.id), body), 404, 'case.not_found');
    expectProblem(await call(t, evaluator, 'GET', assessmentsUrl(c.id)), 404, 'case.not_found');
    expectProblem(await call(t, admin, 'POST', assessmentsUrl(c.id), body), 403, 'auth.forbidden');
    expectProblem(await call(t, admin, 'GET', assessmentsUrl(c.id)), 403, 'auth.forbidden');
    expect(await count('assessments', 'case_id', c.id)).toBe(0);
    expect(await count('assessments', 'case_id', foreign.id)).toBe(0);
    expect(await auditCount(t, 'assessment.create', kim.id)).toBe(0);
    expect(await auditCount(t, 'assessment.list', kim.id)).toBe(0);
  });

  it('refuses an unknown or foreign template, an unknown factor and every malformed body, storing nothing', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const tpl = await newTemplate(lead, p);
    const other = await cast(t, { lead: 'lead' });
    const foreignTpl = await newTemplate(other.lead, other.programId);
    const c = await activeCase(t, lead, p, sam.id);
    const text = mark('refused-note');
    const body = (extra: Record<string, unknown>) => ({
      templateId: tpl.id,
      phase: 'baseline',
      scores: { isolation: 1 },
      note: text,
      ...extra,
    });

    for (const templateId of [randomUUID(), foreignTpl.id]) {
      const problem = expectProblem(
        await call(t, sam, 'POST', assessmentsUrl(c.id), body({ templateId })),
        400,
        'assessment.unknown_template',
      );
      expect(problem['errors']).toEqual([{ path: 'body.templateId', message: expect.any(String) }]);
    }
    const stray = expectProblem(
      await call(t, sam, 'POST', assessmentsUrl(c.id), body({ scores: { isolation: 1, hope: 2 } })),
      400,
      'assessment.unknown_factor',
    );
    expect(stray['errors']).toEqual([{ path: 'body.scores.hope', message: expect.any(String) }]);

    // Raw JSON where an object literal cannot say it: `__proto__` as a plain key, as JSON.parse keeps it.
    const protoKey = JSON.stringify(body({ scores: {} })).replace('"scores":{}', '"scores":{"__proto__":1}');
    const refused: [Record<string, unknown> | string, string][] = [
      [protoKey, 'body.scores'],
      [body({ scores: { isolation: 4 } }), 'body.scores'],
      [body({ scores: { isolation: -1 } }), 'body.scores'],
      [body({ scores: { isolation: 1.5 } }), 'body.scores'],
      [body({ scores: { isolation: '2' } }), 'body.scores'],
      [body({ scores: { isolation: true } }), 'body.scores'],
      [body({ scores: { isolation: [1] } }), 'body.scores'],
      [body({ scores: [1, 2] }), 'body.scores'],
      [body({ scores: null }), 'body.scores'],
      [body({ scores: { 'Not A Key': 1 } }), 'body.scores'],
      [body({ scores: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`f${i}`, 1])) }), 'body.scores'],
      [body({ phase: 'midpoint' }), 'body.phase'],
      [body({ templateId: 'not-a-uuid' }), 'body.templateId'],
      [body({ note: 'n'.repeat(4001) }), 'body.note'],
      [body({ note: `nul\u0000${text}` }), 'body.note'],
      [body({ note: 7 }), 'body.note'],
      [body({ assessedBy: lead.id }), 'body'],
      [body({ change: {} }), 'body'],
      [{ phase: 'baseline', scores: {} }, 'body'],
    ];
    for (const [payload, path] of refused) {
      const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
      const res = await t.app.inject({
        method: 'POST',
        url: assessmentsUrl(c.id),
        headers: { ...sam.auth, 'content-type': 'application/json' },
        payload: raw,
      });
      const problem = expectProblem(res, 400, 'request.invalid') as { errors: { path: string }[] };
      expect(
        problem.errors.some((e) => e.path === path || e.path.startsWith(`${path}.`)),
        `${raw.slice(0, 80)}: ${res.body}`,
      ).toBe(true);
    }
    expectProblem(await call(t, sam, 'POST', assessmentsUrl('not-a-uuid'), body({})), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'GET', `${assessmentsUrl(c.id)}?limit=0`), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'GET', `${assessmentsUrl(c.id)}?since=x`), 400, 'request.invalid');
    expect(await count('assessments', 'case_id', c.id)).toBe(0);
    expect(await findEverywhere(text)).toEqual([]);
    // A note of exactly 4000 characters is taken.
    const long = await assess(sam, c.id, body({ note: 'n'.repeat(4000) }));
    expect(long.note).toHaveLength(4000);
  });

  it('is audited: one entry per write and per page read, none for a refused call', async () => {
    const { programId: p, lead, sam, kim } = await cast(t, { lead: 'lead', sam: 'intervener', kim: 'intervener' });
    const tpl = await newTemplate(lead, p);
    const c = await activeCase(t, lead, p, sam.id);
    const made = await assess(sam, c.id, { templateId: tpl.id, phase: 'baseline', scores: {} });
    const { rows: writes } = await t.db.pool.query(
      `select actor_id as "actorId", target_type as "targetType", target_id as "targetId", case_id as "caseId", program_id as "programId"
         from audit_log where action = 'assessment.create' and case_id = $1`,
      [c.id],
    );
    expect(writes).toEqual([{ actorId: sam.id, targetType: 'assessment', targetId: made.id, caseId: c.id, programId: p }]);
    await ok(t, sam, 'GET', assessmentsUrl(c.id));
    await ok(t, lead, 'GET', `${assessmentsUrl(c.id)}?limit=1`);
    const { rows: reads } = await t.db.pool.query(
      `select actor_id as "actorId", target_type as "targetType", case_id as "caseId" from audit_log where action = 'assessment.list' and case_id = $1 order by at`,
      [c.id],
    );
    expect(reads).toEqual([
      { actorId: sam.id, targetType: 'case', caseId: c.id },
      { actorId: lead.id, targetType: 'case', caseId: c.id },
    ]);
    await call(t, kim, 'GET', assessmentsUrl(c.id));
    expect(await auditCount(t, 'assessment.list', kim.id)).toBe(0);
  });

  it('is idempotent with an Idempotency-Key: a replay answers the first response and stores nothing more', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const tpl = await newTemplate(lead, p);
    const c = await activeCase(t, lead, p, sam.id);
    const key = { 'idempotency-key': `asmt-${randomUUID()}` };
    const body = { templateId: tpl.id, phase: 'baseline', scores: { isolation: 2 }, note: 'keyed' };
    const first = await call(t, sam, 'POST', assessmentsUrl(c.id), body, key);
    const again = await call(t, sam, 'POST', assessmentsUrl(c.id), body, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await count('assessments', 'case_id', c.id)).toBe(1);
    // Tied to the case: a caller the case has left gets 404 on replay.
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: (await t.staff('intervener', p)).id });
    expectProblem(await call(t, sam, 'POST', assessmentsUrl(c.id), body, key), 404, 'case.not_found');
  });
});

describe('assessments and erasure', () => {
  it('an erased case takes no more assessments (409 case.erased); its notes are gone everywhere, its scores stay', async () => {
    const { programId: p, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const tpl = await newTemplate(lead, p);
    const c = await activeCase(t, lead, p, sam.id);
    const notes = [mark('assessment-note'), mark('keyed-assessment-note')];
    await assess(sam, c.id, { templateId: tpl.id, phase: 'baseline', scores: { isolation: 3 }, note: notes[0] });
    // Its stored idempotent response holds the note too (sealed): erasure drops it with the rest.
    await assess(
      lead,
      c.id,
      { templateId: tpl.id, phase: 'review', scores: { isolation: 2 }, note: notes[1] },
      {
        'idempotency-key': `erase-${randomUUID()}`,
      },
    );
    for (const n of notes) expect(await findEverywhere(n), n).toEqual(['public.assessments.note']);
    const keyed = async () =>
      (await t.db.pool.query<{ n: number }>('select count(*)::int as n from idempotency_keys where case_id = $1', [c.id])).rows[0]!.n;
    expect(await keyed()).toBe(1);

    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    for (const n of notes) expect(await findEverywhere(n), n).toEqual([]);
    expect(await keyed()).toBe(0);
    const after = await ok<Page<Assessment>>(t, lead, 'GET', assessmentsUrl(c.id));
    expect(after.items.map((a) => [a.phase, a.scores.isolation, a.note, a.change.isolation])).toEqual([
      ['baseline', 3, null, null],
      ['review', 2, null, -1],
    ]);
    const body = { templateId: tpl.id, phase: 'closure', scores: { isolation: 1 }, note: 'after erasure' };
    expectProblem(await call(t, lead, 'POST', assessmentsUrl(c.id), body), 409, 'case.erased');
    // The erased case is closed: out of the holder's scope.
    expectProblem(await call(t, sam, 'POST', assessmentsUrl(c.id), body), 404, 'case.not_found');
    expect(await count('assessments', 'case_id', c.id)).toBe(2);
  });
});

describe('GET /v1/reports/assessments', () => {
  /** A case flagged `daysAgo` days ago, with these assessments recorded by the lead in order. */
  async function caseWith(
    lead: Who,
    programId: string,
    holder: Who,
    daysAgo: number,
    steps: [templateId: string, phase: string, scores: Record<string, number | null>][],
  ) {
    const flaggedAt = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    const c = await activeCase(t, lead, programId, holder.id, { flaggedAt });
    for (const [templateId, phase, scores] of steps) await assess(lead, c.id, { templateId, phase, scores });
    return c.id;
  }

  it('gives per-factor mean change from baseline to closure with a t interval, suppressed below minCellSize pairs', async () => {
    const {
      programId: p,
      lead,
      sam,
      evaluator,
    } = await cast(t, { lead: 'lead', sam: 'intervener', evaluator: 'evaluator' }, { minCellSize: 5 });
    const factors = [
      { key: 'a', label: 'Factor A' },
      { key: 'b', label: 'Factor B' },
      { key: 'c', label: 'Factor C' },
    ];
    const tpl = await newTemplate(lead, p, 'Report', factors);
    const otherTpl = await newTemplate(lead, p, 'Other', factors);
    const T = tpl.id;
    // Five cases in the window, baseline → closure (c never scored at baseline):
    //   a: 3→1, 2→1, 3→2, 2→2, 3→2   changes -2, -1, -1, 0, -1
    //   b: 2→2, 3→1, 1→0, 2→?, 3→3   changes 0, -2, -1, 0 (4 known: fewer than minCellSize 5)
    await caseWith(lead, p, sam, 1, [
      [T, 'baseline', { a: 3, b: 2 }],
      [T, 'closure', { a: 1, b: 2, c: 1 }],
    ]);
    await caseWith(lead, p, sam, 2, [
      [T, 'baseline', { a: 2, b: 3 }],
      [T, 'review', { a: 0, b: 0, c: 0 }],
      [T, 'closure', { a: 1, b: 1, c: 2 }],
    ]);
    await caseWith(lead, p, sam, 3, [
      [T, 'baseline', { a: 3, b: 1 }],
      [T, 'closure', { a: 2, b: 0 }],
    ]);
    await caseWith(lead, p, sam, 4, [
      [T, 'baseline', { a: 2, b: 2 }],
      [T, 'closure', { a: 2, b: null, c: 3 }],
    ]);
    // The earliest baseline and the latest closure count: the later baseline and the earlier closure do not.
    await caseWith(lead, p, sam, 5, [
      [T, 'baseline', { a: 3, b: 3 }],
      [T, 'closure', { a: 0, b: 0 }],
      [T, 'baseline', { a: 0, b: 0 }],
      [T, 'closure', { a: 2, b: 3 }],
    ]);
    // Left out: flagged before the window; a baseline only; a closure only; baseline and closure on another template.
    await caseWith(lead, p, sam, 60, [
      [T, 'baseline', { a: 0, b: 0 }],
      [T, 'closure', { a: 3, b: 3 }],
    ]);
    await caseWith(lead, p, sam, 1, [[T, 'baseline', { a: 0, b: 0 }]]);
    await caseWith(lead, p, sam, 1, [[T, 'closure', { a: 3, b: 3 }]]);
    await caseWith(lead, p, sam, 1, [
      [otherTpl.id, 'baseline', { a: 0, b: 0 }],
      [T, 'closure', { a: 3, b: 3 }],
    ]);

    const url = `/v1/reports/assessments?programId=${p}&templateId=${T}&from=${day(-30)}&to=${day(1)}`;
    const res = await call(t, evaluator, 'GET', url);
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json<Report>();
    // a, by hand: n = 5, mean = -5/5 = -1; deviations -1, 0, 0, 1, 0 → s² = 2/4 = 0.5; se = √(0.5/5) = 0.316228;
    // t(0.975, df 4) = 2.7764 (standard t table) → half-width 2.7764 × 0.316228 = 0.87798 → [-1.8780, -0.1220].
    expect(report).toEqual({
      templateId: T,
      factors: [
        { key: 'a', label: 'Factor A', pairs: 5, meanChange: -1, ci95: [-1.878, -0.122] },
        { key: 'b', label: 'Factor B', pairs: null, meanChange: null, ci95: null },
        { key: 'c', label: 'Factor C', pairs: 0, meanChange: null, ci95: null },
      ],
      asOf: expect.any(String),
      definition: expect.objectContaining({ minCellSize: 5, method: expect.stringMatching(/Student t.*df = pairs - 1/) }),
    });
    expect(report.definition['suppression']).toMatch(/minCellSize/);
    expect(await ok<Report>(t, lead, 'GET', url)).toEqual({ ...report, asOf: expect.any(String) });
    expect(await auditCount(t, 'report.assessments', evaluator.id)).toBe(1);

    // Only the window's cases: the one flagged 60 days ago alone has a = 0 → 3 (fewer than 5 pairs).
    const early = await ok<Report>(
      t,
      lead,
      'GET',
      `/v1/reports/assessments?programId=${p}&templateId=${T}&from=${day(-90)}&to=${day(-30)}`,
    );
    expect(early.factors.map((f) => f.pairs)).toEqual([null, null, 0]);
    const none = await ok<Report>(
      t,
      lead,
      'GET',
      `/v1/reports/assessments?programId=${p}&templateId=${T}&from=${day(-200)}&to=${day(-100)}`,
    );
    expect(none.factors.map((f) => [f.pairs, f.meanChange, f.ci95])).toEqual([
      [0, null, null],
      [0, null, null],
      [0, null, null],
    ]);
    // With minCellSize 4, factor b is shown: changes 0, -2, -1, 0; mean -0.75, s² = (0.5625 + 1.5625 + 0.0625 + 0.5625)/3 = 0.916667,
    // se = √(0.916667/4) = 0.478714; t(0.975, df 3) = 3.1824 (standard t table) → half-width 1.52346 → [-2.2735, 0.7735].
    const smaller = await cast(t, { lead: 'lead', sam: 'intervener' }, { minCellSize: 4 });
    const bt = await newTemplate(smaller.lead, smaller.programId, 'B only', [{ key: 'b', label: 'B' }]);
    for (const [before, after] of [
      [2, 2],
      [3, 1],
      [1, 0],
      [3, 3],
    ] as const) {
      await caseWith(smaller.lead, smaller.programId, smaller.sam, 1, [
        [bt.id, 'baseline', { b: before }],
        [bt.id, 'closure', { b: after }],
      ]);
    }
    const shown = await ok<Report>(
      t,
      smaller.lead,
      'GET',
      `/v1/reports/assessments?programId=${smaller.programId}&templateId=${bt.id}&from=${day(-30)}&to=${day(1)}`,
    );
    expect(shown.factors).toEqual([{ key: 'b', label: 'B', pairs: 4, meanChange: -0.75, ci95: [-2.2735, 0.7735] }]);
  });

  it('is for leads and evaluators of the program; a foreign or unknown template and a bad window are 400', async () => {
    const {
      programId: p,
      lead,
      analyst,
      sam,
      evaluator,
      admin,
    } = await cast(t, {
      lead: 'lead',
      analyst: 'analyst',
      sam: 'intervener',
      evaluator: 'evaluator',
      admin: 'admin',
    });
    const tpl = await newTemplate(lead, p);
    const other = await cast(t, { lead: 'lead', evaluator: 'evaluator' });
    const foreignTpl = await newTemplate(other.lead, other.programId);
    const url = (q: Record<string, string>) =>
      `/v1/reports/assessments?${new URLSearchParams({ programId: p, templateId: tpl.id, from: day(-30), to: day(1), ...q })}`;
    for (const who of [analyst, sam, admin]) expectProblem(await call(t, who, 'GET', url({})), 403, 'auth.forbidden');
    for (const who of [other.lead, other.evaluator]) expectProblem(await call(t, who, 'GET', url({})), 404, 'program.not_found');
    expectProblem(await call(t, lead, 'GET', url({ programId: randomUUID() })), 404, 'program.not_found');
    for (const templateId of [foreignTpl.id, randomUUID()]) {
      const problem = expectProblem(await call(t, evaluator, 'GET', url({ templateId })), 400, 'assessment.unknown_template');
      expect(problem['errors']).toEqual([{ path: 'querystring.templateId', message: expect.any(String) }]);
    }
    expectProblem(await call(t, lead, 'GET', url({ from: day(1), to: day(-30) })), 400, 'report.invalid_window');
    const bad: Record<string, string>[] = [
      { templateId: 'nope' },
      { from: '2026-02-30' },
      { to: 'tomorrow' },
      { extra: '1' },
      { programId: '' },
    ];
    for (const q of bad) {
      expectProblem(await call(t, lead, 'GET', url(q)), 400, 'request.invalid');
    }
    expectProblem(
      await call(t, lead, 'GET', `/v1/reports/assessments?programId=${p}&from=${day(-30)}&to=${day(1)}`),
      400,
      'request.invalid',
    );
    expect(await auditCount(t, 'report.assessments', lead.id)).toBe(0);
    expect(await auditCount(t, 'report.assessments', evaluator.id)).toBe(0);
  });
});
