import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

let t: TestApp;
let programId: string;
let lead: Who;
let analyst: Who;
let sam: Who;

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, analyst, sam } = await cast(t, {
    lead: 'lead',
    analyst: 'analyst',
    sam: { role: 'intervener', specialisms: ['far_right'], languages: ['en'], maxCaseload: 3 },
  }));
});
afterAll(() => t.close());

describe('flagging', () => {
  it('normalises the handle and refuses a second open case for it', async () => {
    const body = flagBody(programId);
    const res = await call(t, analyst, 'POST', '/v1/cases', { ...body, profile: { ...body.profile, handle: '@Some_One_1' } });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      status: 'flagged',
      stage: 'none',
      profile: { handle: 'some_one_1', platform: 'x' },
      assigneeId: null,
      version: 1,
    });
    const dup = await call(t, analyst, 'POST', '/v1/cases', { ...body, profile: { ...body.profile, handle: 'SOME_ONE_1' } });
    expect(expectProblem(dup, 409, 'case.duplicate')['caseId']).toBe(c.id);
  });

  it('validates the flag', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expectProblem(await call(t, analyst, 'POST', '/v1/cases', flagBody(programId, { flaggedAt: future })), 400, 'case.flagged_in_future');
    const bad = flagBody(programId, { indicators: [{ kind: '', evidenceUrl: 'javascript:alert(1)' }] });
    const res = expectProblem(await call(t, analyst, 'POST', '/v1/cases', bad), 400, 'request.invalid');
    expect((res['errors'] as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'body.indicators.0.evidenceUrl',
      'body.indicators.0.kind',
    ]);
    const other = await t.program();
    expectProblem(await call(t, analyst, 'POST', '/v1/cases', flagBody(other.id)), 404, 'program.not_found');
    expectProblem(await call(t, sam, 'POST', '/v1/cases', flagBody(programId)), 403, 'auth.forbidden');
  });
});

describe('workflow', () => {
  it('runs flag → triage → approve → candidates → assign → close → reopen with events', async () => {
    const c = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(programId));
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${c.id}/approve`, {}), 409, 'case.invalid_transition');
    const accepted = await ok(t, analyst, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'clear indicators' });
    expect(accepted['status']).toBe('accepted');
    expectProblem(await call(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: sam.id }), 409, 'case.invalid_transition');
    expect((await ok(t, lead, 'POST', `/v1/cases/${c.id}/approve`, { note: 'ok' }))['status']).toBe('approved');

    const other = await t.staff('intervener', programId, { specialisms: ['islamist'], languages: ['ar'] });
    const cands = await ok<{ items: { intervenerId: string; score: number; reasons: string[] }[] }>(
      t,
      lead,
      'GET',
      `/v1/cases/${c.id}/candidates`,
    );
    expect(cands.items[0]!.intervenerId).toBe(sam.id);
    expect(cands.items[0]!.reasons.join(' ')).toContain('far-right');
    expect(cands.items.find((i) => i.intervenerId === other.id)!.score).toBeLessThan(cands.items[0]!.score);

    const assigned = await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: sam.id });
    expect(assigned).toMatchObject({ status: 'active', assigneeId: sam.id });
    expect((await call(t, sam, 'GET', `/v1/cases/${c.id}`)).statusCode).toBe(200);
    expectProblem(await call(t, analyst, 'GET', `/v1/cases/${c.id}`), 404, 'case.not_found');

    // An outcome says what happened in the conversation: only a case that reached it may claim it.
    expectProblem(await call(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'positive_change' }), 409, 'case.invalid_outcome');
    expectProblem(await call(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'no_response' }), 409, 'case.invalid_outcome');
    const at = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'direct_message', occurredAt: at(-1) });
    expectProblem(await call(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'declined' }), 409, 'case.invalid_outcome');
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'inbound', channel: 'direct_message', occurredAt: at(-2) });
    const closed = await ok(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'positive_change' });
    expect(closed).toMatchObject({ status: 'closed', outcome: 'positive_change' });
    expectProblem(await call(t, sam, 'GET', `/v1/cases/${c.id}`), 404);
    const reopened = await ok(t, lead, 'POST', `/v1/cases/${c.id}/reopen`, { reason: 'new contact' });
    expect(reopened).toMatchObject({ status: 'active', assigneeId: sam.id, closedAt: null, outcome: null });

    const events = await ok<{ items: { kind: string; actorId: string; toStatus: string | null }[] }>(
      t,
      lead,
      'GET',
      `/v1/cases/${c.id}/events`,
    );
    expect(events.items.map((e) => e.kind)).toEqual(['flagged', 'triage_accept', 'approve', 'assign', 'close', 'reopen']);
    expect(events.items[4]!.actorId).toBe(sam.id);
  });

  it('closing outcomes need the stage they describe: referred, unsafe_to_continue and other need none', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' });
    for (const outcome of ['referred', 'unsafe_to_continue', 'other']) {
      const c = await activeCase(t, l, p, i.id);
      // Closing as referred needs a referral of the case (test/referrals.test.ts).
      if (outcome === 'referred') await ok(t, l, 'POST', `/v1/cases/${c.id}/referrals`, { to: 'exit_programme', consent: 'given' });
      expect((await ok(t, l, 'POST', `/v1/cases/${c.id}/close`, { outcome }))['outcome']).toBe(outcome);
    }
    const c = await activeCase(t, l, p, i.id);
    await ok(t, i, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
    });
    expect((await ok(t, l, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'no_response' }))['outcome']).toBe('no_response');
  });

  it('ranks candidates by their real open caseloads', async () => {
    const {
      programId: p,
      l,
      busy,
      half,
      free,
    } = await cast(
      t,
      {
        l: 'lead',
        busy: { role: 'intervener', specialisms: ['far_right'], languages: ['en'] },
        half: { role: 'intervener', specialisms: ['far_right'], languages: ['en'] },
        free: { role: 'intervener', specialisms: ['far_right'], languages: ['en'] },
      },
      { defaultMaxCaseload: 3 },
    );
    for (let n = 0; n < 3; n++) await activeCase(t, l, p, busy.id);
    await activeCase(t, l, p, half.id);
    // A closed case no longer counts.
    const done = await activeCase(t, l, p, free.id);
    await ok(t, l, 'POST', `/v1/cases/${done.id}/close`, { outcome: 'other' });
    const c = await ok<{ id: string }>(t, l, 'POST', '/v1/cases', flagBody(p));
    await ok(t, l, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'r' });
    await ok(t, l, 'POST', `/v1/cases/${c.id}/approve`, {});
    const { items } = await ok<{ items: { intervenerId: string; openCases: number; maxCaseload: number; reasons: string[] }[] }>(
      t,
      l,
      'GET',
      `/v1/cases/${c.id}/candidates`,
    );
    expect(items.map((x) => [x.intervenerId, x.openCases])).toEqual([
      [free.id, 0],
      [half.id, 1],
      [busy.id, 3],
    ]);
    expect(items[1]!.reasons).toContain('2 of 3 caseload places free');
    expect(items[2]!.reasons).toContain('at capacity (3/3 open cases)');
    // What candidates said is what assignment enforces.
    expectProblem(await call(t, l, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: busy.id }), 409, 'staff.over_capacity');
  });

  it('skips approval when the program does not require it', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' }, { requireApproval: false });
    const c = await ok<{ id: string }>(t, l, 'POST', '/v1/cases', flagBody(p));
    await ok(t, l, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'r' });
    expect((await ok(t, l, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: i.id }))['status']).toBe('active');
  });

  it('enforces the caseload cap unless overridden with a reason', async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' }, { defaultMaxCaseload: 1 });
    await activeCase(t, l, p, i.id);
    const c = await ok<{ id: string }>(t, l, 'POST', '/v1/cases', flagBody(p));
    await ok(t, l, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'r' });
    await ok(t, l, 'POST', `/v1/cases/${c.id}/approve`, {});
    expectProblem(await call(t, l, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: i.id }), 409, 'staff.over_capacity');
    expectProblem(
      await call(t, l, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: i.id, override: true }),
      400,
      'assignment.reason_required',
    );
    const forced = await ok(t, l, 'POST', `/v1/cases/${c.id}/assignment`, {
      intervenerId: i.id,
      override: true,
      reason: 'only Arabic speaker',
    });
    expect(forced['assigneeId']).toBe(i.id);
  });
});
