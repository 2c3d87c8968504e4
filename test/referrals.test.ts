import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referralRefusal } from '../src/domain/referrals/rules.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { activeCase, auditCount, call, ok } from './helpers/story.js';

interface Referral {
  id: string;
  caseId: string;
  to: string;
  consent: string;
  basis: string | null;
  note: string | null;
  status: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}
interface CaseEvent {
  kind: string;
  actorId: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const url = (caseId: string) => `/v1/cases/${caseId}/referrals`;
const eventsOf = async (who: { auth: { authorization: string } }, caseId: string) =>
  (await ok<{ items: CaseEvent[] }>(t, who, 'GET', `/v1/cases/${caseId}/events?limit=200`)).items;

describe('referral consent rules (pure)', () => {
  const never = async () => {
    throw new Error('the concern is asked only for police or prevent_channel without consent, by a lead');
  };
  it('consent given needs nothing more, whatever the target', async () => {
    for (const to of ['police', 'prevent_channel', 'helpline'] as const) {
      expect(await referralRefusal({ to, consent: 'given', basis: null }, 'intervener', never)).toBeNull();
    }
  });
  it('consent declined or not sought needs a basis', async () => {
    expect(await referralRefusal({ to: 'helpline', consent: 'declined', basis: null }, 'lead', never)).toBe('basis_required');
    expect(await referralRefusal({ to: 'helpline', consent: 'not_sought', basis: 'risk to life' }, 'intervener', never)).toBeNull();
  });
  it('police or prevent_channel without consent: a lead, on a concern', async () => {
    const input = { to: 'police', consent: 'not_sought', basis: 'threat to others' } as const;
    expect(await referralRefusal(input, 'intervener', never)).toBe('consent_required');
    expect(await referralRefusal(input, 'lead', async () => false)).toBe('consent_required');
    expect(await referralRefusal(input, 'lead', async () => true)).toBeNull();
    expect(await referralRefusal({ ...input, to: 'prevent_channel' }, 'lead', async () => false)).toBe('consent_required');
  });
});

describe('POST /v1/cases/{id}/referrals', () => {
  it('records a consented referral, sets referredAt once and says who decided in the case history', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    const res = await call(t, sam, 'POST', url(c.id), { to: 'exit_programme', consent: 'given', note: 'Agreed to an introduction' });
    expect(res.statusCode).toBe(201);
    const r = res.json() as Referral;
    expect(r).toMatchObject({
      caseId: c.id,
      to: 'exit_programme',
      consent: 'given',
      basis: null,
      note: 'Agreed to an introduction',
      status: 'pending',
      createdBy: sam.id,
    });
    const first = await ok<{ referredAt: string | null }>(t, lead, 'GET', `/v1/cases/${c.id}`);
    expect(first.referredAt).toBe(r.createdAt);

    await new Promise((resolve) => setTimeout(resolve, 5));
    await ok(t, lead, 'POST', url(c.id), { to: 'mental_health', consent: 'given' });
    const second = await ok<{ referredAt: string | null }>(t, lead, 'GET', `/v1/cases/${c.id}`);
    expect(second.referredAt).toBe(r.createdAt);

    const referred = (await eventsOf(lead, c.id)).filter((e) => e.kind === 'referred');
    expect(referred).toHaveLength(2);
    expect(referred[0]).toMatchObject({
      actorId: sam.id,
      reason: null,
      data: { referralId: r.id, to: 'exit_programme', consent: 'given', decidedBy: sam.id, decidedAs: 'intervener' },
    });
    expect(referred[1]!.data).toMatchObject({ decidedBy: lead.id, decidedAs: 'lead' });
    expect(await auditCount(t, 'referral.create', sam.id)).toBe(1);

    const list = await ok<{ items: Referral[] }>(t, sam, 'GET', url(c.id));
    expect(list.items.map((x) => x.to)).toEqual(['exit_programme', 'mental_health']);
  });

  it('consent other than given needs a basis (400)', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    for (const consent of ['declined', 'not_sought']) {
      const body = expectProblem(await call(t, sam, 'POST', url(c.id), { to: 'helpline', consent }), 400, 'referral.basis_required');
      expect(body['errors']).toEqual([expect.objectContaining({ path: 'body.basis' })]);
      expectProblem(await call(t, sam, 'POST', url(c.id), { to: 'helpline', consent, basis: '   ' }), 400, 'referral.basis_required');
    }
    const made = await ok<Referral>(t, sam, 'POST', url(c.id), {
      to: 'helpline',
      consent: 'declined',
      basis: 'Immediate risk to themselves',
    });
    expect(made).toMatchObject({ consent: 'declined', basis: 'Immediate risk to themselves' });
    const rows = await t.db.pool.query('select count(*)::int as n from referrals where case_id = $1', [c.id]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('police or prevent_channel without consent: only a lead, only with a safeguarding concern (422 otherwise)', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    const police = { to: 'police', consent: 'not_sought', basis: 'Stated a plan to hurt a named group' };
    // The holder may not decide it, concern or not.
    expectProblem(await call(t, sam, 'POST', url(c.id), police), 422, 'referral.consent_required');
    // A lead may not either, while there is no concern on the case.
    expectProblem(await call(t, lead, 'POST', url(c.id), police), 422, 'referral.consent_required');
    expectProblem(
      await call(t, lead, 'POST', url(c.id), { ...police, to: 'prevent_channel', consent: 'declined' }),
      422,
      'referral.consent_required',
    );
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'urgent', concern: 'Said they would act this weekend' });
    expectProblem(await call(t, sam, 'POST', url(c.id), police), 422, 'referral.consent_required');
    const made = await ok<Referral>(t, lead, 'POST', url(c.id), police);
    expect(made).toMatchObject({ to: 'police', consent: 'not_sought', createdBy: lead.id });
    const event = (await eventsOf(lead, c.id)).find((e) => e.kind === 'referred');
    expect(event).toMatchObject({ actorId: lead.id, data: { to: 'police', consent: 'not_sought', decidedBy: lead.id, decidedAs: 'lead' } });
    // With consent the holder refers to either on their own.
    await ok(t, sam, 'POST', url(c.id), { to: 'prevent_channel', consent: 'given' });
  });

  it('is case work: out of scope 404, evaluators and dpos 404, analysts 403, an erased case 409', async () => {
    const { programId, lead, sam, kim, analyst, evaluator, dpo } = await cast(t, {
      lead: 'lead',
      sam: 'intervener',
      kim: 'intervener',
      analyst: 'analyst',
      evaluator: 'evaluator',
      dpo: 'dpo',
    });
    const other = await cast(t, { lead: 'lead' });
    const c = await activeCase(t, lead, programId, sam.id);
    const body = { to: 'helpline', consent: 'given' };
    expectProblem(await call(t, kim, 'POST', url(c.id), body), 404, 'case.not_found');
    expectProblem(await call(t, other.lead, 'POST', url(c.id), body), 404, 'case.not_found');
    expectProblem(await call(t, evaluator, 'POST', url(c.id), body), 404, 'case.not_found');
    expectProblem(await call(t, dpo, 'GET', url(c.id)), 404, 'case.not_found');
    expectProblem(await call(t, analyst, 'POST', url(c.id), body), 403, 'auth.forbidden');
    expectProblem(await call(t, kim, 'GET', url(c.id)), 404, 'case.not_found');
    const r = await ok<Referral>(t, sam, 'POST', url(c.id), body);
    expectProblem(await call(t, kim, 'PATCH', `/v1/referrals/${r.id}`, { status: 'accepted' }), 404, 'referral.not_found');
    expectProblem(await call(t, other.lead, 'PATCH', `/v1/referrals/${r.id}`, { status: 'accepted' }), 404, 'referral.not_found');
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'Erasure request' });
    expectProblem(await call(t, lead, 'POST', url(c.id), body), 409, 'case.erased');
    expectProblem(await call(t, lead, 'PATCH', `/v1/referrals/${r.id}`, { status: 'accepted' }), 409, 'case.erased');
  });
});

describe('PATCH /v1/referrals/{id}', () => {
  it('records what became of it, in the case history too', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    const r = await ok<Referral>(t, sam, 'POST', url(c.id), { to: 'social_services', consent: 'given' });
    const res = await call(t, sam, 'PATCH', `/v1/referrals/${r.id}`, { status: 'accepted' });
    expect(res.statusCode).toBe(200);
    const updated = res.json() as Referral;
    expect(updated).toMatchObject({ id: r.id, status: 'accepted' });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(r.updatedAt));
    expect((await ok<{ items: Referral[] }>(t, lead, 'GET', url(c.id))).items[0]!.status).toBe('accepted');
    const event = (await eventsOf(lead, c.id)).find((e) => e.kind === 'referral_status');
    expect(event).toMatchObject({ actorId: sam.id, data: { referralId: r.id, from: 'pending', to: 'accepted' } });
    expectProblem(await call(t, sam, 'PATCH', `/v1/referrals/${r.id}`, { status: 'pending' }), 400, 'request.invalid');
    expectProblem(await call(t, sam, 'PATCH', `/v1/referrals/${r.id}`, { status: 'declined', note: 'x' }), 400);
    expectProblem(await call(t, lead, 'PATCH', `/v1/referrals/${crypto.randomUUID()}`, { status: 'unknown' }), 404, 'referral.not_found');
  });
});

describe('closing as referred', () => {
  it('needs a referral (409 case.referral_missing)', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    expectProblem(await call(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'referred' }), 409, 'case.referral_missing');
    expect((await ok<{ status: string }>(t, lead, 'GET', `/v1/cases/${c.id}`)).status).toBe('active');
    await ok(t, sam, 'POST', url(c.id), { to: 'exit_programme', consent: 'given' });
    const closed = await ok<{ status: string; outcome: string }>(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'referred' });
    expect(closed).toMatchObject({ status: 'closed', outcome: 'referred' });
  });
});

describe('free text and erasure', () => {
  it('refuses an identifier in basis or note, naming the field', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    const onBasis = expectProblem(
      await call(t, sam, 'POST', url(c.id), { to: 'helpline', consent: 'declined', basis: 'See https://example.org/thread' }),
      422,
      'text.contains_identifier',
    );
    expect(onBasis['errors']).toEqual([expect.objectContaining({ path: 'body.basis' })]);
    const onNote = expectProblem(
      await call(t, sam, 'POST', url(c.id), { to: 'helpline', consent: 'given', note: 'Their friend @someone_else agreed' }),
      422,
      'text.contains_identifier',
    );
    expect(onNote['errors']).toEqual([expect.objectContaining({ path: 'body.note' })]);
    // The identifier is not echoed back.
    expect(JSON.stringify(onNote)).not.toContain('someone_else');
  });

  it('erasure drops basis and note and keeps where, with what consent and when', async () => {
    const { programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const c = await activeCase(t, lead, programId, sam.id);
    const basis = `Risk to life ${crypto.randomUUID()}`;
    const note = `Caseworker agreed ${crypto.randomUUID()}`;
    const r = await ok<Referral>(t, lead, 'POST', url(c.id), { to: 'mental_health', consent: 'not_sought', basis, note });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'Erasure request' });
    const after = (await ok<{ items: Referral[] }>(t, lead, 'GET', url(c.id))).items;
    expect(after).toEqual([{ ...r, basis: null, note: null }]);
    const left = await t.db.pool.query('select count(*)::int as n from referrals where basis like $1 or note like $2', [basis, note]);
    expect(left.rows[0].n).toBe(0);
    expect((await ok<{ referredAt: string | null }>(t, lead, 'GET', `/v1/cases/${c.id}`)).referredAt).toBe(r.createdAt);
  });
});
