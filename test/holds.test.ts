import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, cases } from '../src/db/schema/index.js';
import { applyRetention } from '../src/domain/retention/policy.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { call, flagBody, ok } from './helpers/story.js';

// API.md, "Holds, retention preview, record of processing".
type Hold = { id: string; caseId: string; reason: string; active: boolean; releasedAt: string | null };
type Preview = { items: { caseId: string; rule: string; dueAt: string }[] };

describe('holds, the retention preview and the record of processing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('keeps a held case through retention while the unheld ones are erased, exactly as the preview said', async () => {
    const p = await cast(
      t,
      { lead: 'lead', dpo: 'dpo', analyst: 'analyst', evaluator: 'evaluator', sam: 'intervener' },
      {
        retentionNeverContacted: 'PT1H',
      },
    );
    const flag = async (minutesAgo: number) =>
      (
        await ok<{ id: string }>(
          t,
          p.lead,
          'POST',
          '/v1/cases',
          flagBody(p.programId, { flaggedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString() }),
        )
      ).id;
    const [held, gone1, gone2] = [await flag(120), await flag(120), await flag(90)];
    const later = await flag(30);
    const hold = await ok<Hold>(
      t,
      p.dpo,
      'POST',
      `/v1/cases/${held}/holds`,
      { reason: 'safeguarding_investigation' },
      { 'idempotency-key': 'hold-1' },
    );
    expect(hold).toMatchObject({ caseId: held, reason: 'safeguarding_investigation', active: true, releasedAt: null });
    // A lead may hold too; the dpo lists the program's holds.
    expect((await ok<{ items: Hold[] }>(t, p.lead, 'GET', '/v1/holds')).items.map((h) => h.id)).toEqual([hold.id]);

    // Due now: the two unheld never-contacted cases flagged over an hour ago; within a day also the one flagged 30 minutes ago.
    const now = await ok<Preview>(t, p.dpo, 'GET', `/v1/retention/preview?programId=${p.programId}&within=PT1S`);
    expect(now.items.map((i) => i.caseId).sort()).toEqual([gone1, gone2].sort());
    expect(now.items.every((i) => i.rule === 'never_contacted')).toBe(true);
    const day = await ok<Preview>(t, p.lead, 'GET', `/v1/retention/preview?programId=${p.programId}&within=P1D`);
    expect(day.items.map((i) => i.caseId).sort()).toEqual([gone1, gone2, later].sort());
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, later));
    expect(day.items.find((i) => i.caseId === later)!.dueAt).toBe(new Date(row!.flaggedAt.getTime() + 3_600_000).toISOString());

    // The retention run erases exactly what the preview listed, and audits the case it skipped for the hold.
    await applyRetention(t.db.db, new Date());
    const erased = (await t.db.db.select({ id: cases.id, erasedAt: cases.erasedAt }).from(cases).where(eq(cases.programId, p.programId)))
      .filter((c) => c.erasedAt)
      .map((c) => c.id)
      .sort();
    expect(erased).toEqual(now.items.map((i) => i.caseId).sort());
    const skipped = await t.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'retention.skipped_hold'), eq(auditLog.targetId, held)));
    expect(skipped.length).toBeGreaterThanOrEqual(1);

    // Erasing a held case is refused; released, it erases.
    expectProblem(await call(t, p.lead, 'POST', `/v1/cases/${held}/erase`, { reason: 'request by email' }), 409, 'case.on_hold');
    const released = await ok<Hold>(t, p.dpo, 'DELETE', `/v1/holds/${hold.id}`);
    expect(released).toMatchObject({ active: false });
    expect(released.releasedAt).not.toBeNull();
    expect((await ok<{ items: Hold[] }>(t, p.lead, 'GET', '/v1/holds')).items).toEqual([]);
    // Released holds stay on the record: `active=false` lists every hold.
    expect((await ok<{ items: Hold[] }>(t, p.dpo, 'GET', '/v1/holds?active=false')).items.map((h) => [h.id, h.active])).toEqual([
      [hold.id, false],
    ]);
    await ok(t, p.lead, 'POST', `/v1/cases/${held}/erase`, { reason: 'request by email' });

    // The record of processing counts what the test did: 4 cases, 3 erased, no hold now.
    const record = await ok<{ counts: Record<string, unknown>; categoriesOfData: string[]; retention: { neverContacted: string } }>(
      t,
      p.dpo,
      'GET',
      `/v1/programs/${p.programId}/record-of-processing`,
    );
    expect(record.counts).toMatchObject({
      erasures: 3,
      heldCases: 0,
      openDsr: 0,
      overdueDsr: 0,
      retentionOverdue: 0,
      publicnessAttestedShare: 0,
    });
    const byStatus = record.counts['casesByStatus'] as Record<string, number>;
    expect(Object.values(byStatus).reduce((a, b) => a + b, 0)).toBe(4);
    expect(record.retention.neverContacted).toBe('PT1H');
    expect(record.categoriesOfData.join(' ')).toMatch(/special-category/);
  });

  it('is the program’s leads’ and dpos’ alone', async () => {
    const p = await cast(t, { lead: 'lead', dpo: 'dpo', analyst: 'analyst', evaluator: 'evaluator', sam: 'intervener', admin: 'admin' });
    const other = await cast(t, { lead: 'lead', dpo: 'dpo' });
    const c = (await ok<{ id: string }>(t, p.lead, 'POST', '/v1/cases', flagBody(p.programId))).id;
    for (const who of [p.analyst, p.sam]) expectProblem(await call(t, who, 'POST', `/v1/cases/${c}/holds`, { reason: 'complaint' }), 403);
    // An evaluator is not allowed here, and for them a case route has no case.
    expectProblem(await call(t, p.evaluator, 'POST', `/v1/cases/${c}/holds`, { reason: 'complaint' }), 404, 'case.not_found');
    expectProblem(await call(t, other.dpo, 'POST', `/v1/cases/${c}/holds`, { reason: 'complaint' }), 404, 'case.not_found');
    for (const bad of [
      { reason: 'because' },
      { reason: 'complaint', until: new Date(Date.now() - 1000).toISOString() },
      { reason: 'complaint', extra: 1 },
      {},
    ]) {
      expect([400, 422]).toContain((await call(t, p.dpo, 'POST', `/v1/cases/${c}/holds`, bad)).statusCode);
    }
    const hold = await ok<Hold>(t, p.dpo, 'POST', `/v1/cases/${c}/holds`, { reason: 'complaint' });
    expectProblem(await call(t, other.dpo, 'DELETE', `/v1/holds/${hold.id}`), 404, 'hold.not_found');
    expectProblem(await call(t, other.lead, 'GET', `/v1/retention/preview?programId=${p.programId}`), 404, 'program.not_found');
    expectProblem(await call(t, p.dpo, 'GET', `/v1/retention/preview?programId=${p.programId}&within=P1M`), 400);
    expectProblem(await call(t, other.dpo, 'GET', `/v1/programs/${p.programId}/record-of-processing`), 404, 'program.not_found');
    expect((await call(t, p.admin, 'GET', `/v1/programs/${p.programId}/record-of-processing`)).statusCode).toBe(200);
    for (const who of [p.analyst, p.sam, p.evaluator]) {
      expect((await call(t, who, 'GET', `/v1/programs/${p.programId}/record-of-processing`)).statusCode).toBe(403);
    }
    // The record states the controller's facts from settings; a fact PostgreSQL could not store is 400, never a 500.
    expectProblem(
      await call(
        t,
        p.lead,
        'PATCH',
        `/v1/programs/${p.programId}`,
        { settings: { dataProtection: { controller: 'Bad\u0000name' } } },
        { 'if-match': '*' },
      ),
      400,
    );
    await ok(
      t,
      p.lead,
      'PATCH',
      `/v1/programs/${p.programId}`,
      { settings: { dataProtection: { controller: 'Northern Outreach Trust', purposes: ['peer outreach'], legalBasis: 'Art. 6(1)(e)' } } },
      { 'if-match': '*' },
    );
    expect(await ok(t, p.dpo, 'GET', `/v1/programs/${p.programId}/record-of-processing`)).toMatchObject({
      controller: 'Northern Outreach Trust',
      purposes: ['peer outreach'],
      legalBasis: 'Art. 6(1)(e)',
    });
    // A dpo reads no case itself.
    expectProblem(await call(t, p.dpo, 'GET', `/v1/cases/${c}`), 404, 'case.not_found');
  });
});
