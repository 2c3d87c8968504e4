import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { call, flagBody, ok } from './helpers/story.js';

// API.md, "Assessments": with requireBaselineAssessment, approving a case or assigning it for the
// first time without a baseline is 409 case.baseline_missing; anything else is unaffected.
describe('requireBaselineAssessment', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const template = async (lead: { auth: { authorization: string } }, programId: string) =>
    (
      await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${programId}/assessment-templates`, {
        name: 'Vulnerability',
        factors: [{ key: 'isolation', label: 'Isolation' }],
      })
    ).id;

  it('gates approval on a baseline (an analyst may record it in triage); a review assessment does not count', async () => {
    const p = await cast(t, { lead: 'lead', analyst: 'analyst', sam: 'intervener' }, { requireBaselineAssessment: true });
    const templateId = await template(p.lead, p.programId);
    const c = await ok<{ id: string }>(t, p.analyst, 'POST', '/v1/cases', flagBody(p.programId));
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    expectProblem(await call(t, p.lead, 'POST', `/v1/cases/${c.id}/approve`, {}), 409, 'case.baseline_missing');
    // Refused: nothing changed.
    expect((await ok<{ status: string; version: number }>(t, p.lead, 'GET', `/v1/cases/${c.id}`)).status).toBe('accepted');
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/assessments`, { templateId, phase: 'review', scores: { isolation: 1 } });
    expectProblem(await call(t, p.lead, 'POST', `/v1/cases/${c.id}/approve`, {}), 409, 'case.baseline_missing');
    await ok(t, p.analyst, 'POST', `/v1/cases/${c.id}/assessments`, { templateId, phase: 'baseline', scores: { isolation: 2 } });
    expect((await ok<{ status: string }>(t, p.lead, 'POST', `/v1/cases/${c.id}/approve`, {})).status).toBe('approved');
    expect((await ok<{ status: string }>(t, p.lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: p.sam.id })).status).toBe(
      'active',
    );
  });

  it('gates a first assignment when approval is skipped, never a reassignment', async () => {
    const p = await cast(
      t,
      { lead: 'lead', sam: 'intervener', lee: 'intervener' },
      { requireBaselineAssessment: true, requireApproval: false },
    );
    const templateId = await template(p.lead, p.programId);
    const c = await ok<{ id: string }>(t, p.lead, 'POST', '/v1/cases', flagBody(p.programId));
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    expectProblem(await call(t, p.lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: p.sam.id }), 409, 'case.baseline_missing');
    expect((await ok<{ assigneeId: string | null }>(t, p.lead, 'GET', `/v1/cases/${c.id}`)).assigneeId).toBeNull();
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/assessments`, { templateId, phase: 'baseline', scores: {} });
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: p.sam.id });
    // The gate is about first contact: moving the case on later is never held up by it.
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: p.lee.id });
  });

  it('is off by default: approval and assignment need no assessment', async () => {
    const p = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await ok<{ id: string }>(t, p.lead, 'POST', '/v1/cases', flagBody(p.programId));
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/approve`, {});
    await ok(t, p.lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: p.sam.id });
  });
});
