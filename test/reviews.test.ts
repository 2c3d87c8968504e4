import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgramSettings } from '../src/domain/programs/settings.js';
import {
  decide,
  outcomeStatusOf,
  reviewsRequiredFor,
  secondCoderDraw,
  seesAllReviews,
  unknownSignals,
} from '../src/domain/reviews/rules.js';
import { closedReviewPairs } from '../src/domain/reviews/store.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, ok } from './helpers/story.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

interface Receipt {
  id: string;
  caseId: string;
  reviewerId: string;
  kind: string;
  outcome: string;
  signals: string[];
  confidence: string | null;
  outcomeStatus: string;
}
interface ReviewList {
  caseId: string;
  outcomeStatus: string | null;
  reviewsRequired: number | null;
  reviewsIn: number;
  items: (Omit<Receipt, 'outcomeStatus'> & { note: string | null })[];
}
interface Packet {
  caseId: string;
  stage: string;
  outcome: string;
  outcomeStatus: string;
  reviewsRequired: number;
  reviewsIn: number;
  touchpoints: { summary: string | null; direction: string }[];
}

const REVIEW: Partial<ProgramSettings> = { outcomeReview: 'required', secondCoderRate: 0, minCellSize: 1 };
const mark = (tag: string) => `${tag}-${randomBytes(5).toString('hex')}`;
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
const reviewsUrl = (id: string) => `/v1/cases/${id}/outcome-reviews`;
const review = (outcome: string, signals: string[] = ['expressed_doubt'], extra: Record<string, unknown> = {}) => ({
  outcome,
  signals,
  confidence: 'medium',
  ...extra,
});

/** A program under review with a lead, an analyst and three interveners. */
function team(settings: Partial<ProgramSettings> = REVIEW) {
  return cast(t, { lead: 'lead', ana: 'analyst', sam: 'intervener', kim: 'intervener', ivy: 'intervener' }, settings);
}

/** A case held by `holder` that reached `responded` (with a summary), closed by the lead with `outcome`. */
async function closedCase(lead: Who, programId: string, holder: Who, outcome = 'positive_change', summary = 'They asked how I left') {
  const c = await activeCase(t, lead, programId, holder.id, { flaggedAt: ago(120) });
  await ok(t, holder, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'paid_message', occurredAt: ago(60) });
  await ok(t, holder, 'POST', `/v1/cases/${c.id}/touchpoints`, {
    direction: 'inbound',
    channel: 'paid_message',
    occurredAt: ago(30),
    summary,
  });
  const closed = await ok<{ id: string; outcomeStatus: string | null }>(t, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome });
  return closed;
}

async function setSettings(lead: Who, programId: string, settings: Partial<ProgramSettings>) {
  const got = await call(t, lead, 'GET', `/v1/programs/${programId}`);
  await ok(t, lead, 'PATCH', `/v1/programs/${programId}`, { settings }, { 'if-match': String(got.headers.etag) });
}

const caseRow = async (id: string) =>
  (
    await t.db.pool.query<{
      outcome_status: string | null;
      reviewed_outcome: string | null;
      reviewed_signals: string[] | null;
      reviews_required: number | null;
    }>('select outcome_status, reviewed_outcome, reviewed_signals, reviews_required from cases where id = $1', [id])
  ).rows[0]!;
const reviewRows = async (caseId: string) =>
  (await t.db.pool.query<{ n: number }>('select count(*)::int as n from outcome_reviews where case_id = $1', [caseId])).rows[0]!.n;

/** Every text-like column of every table searched for `needle` (as test/privacy.test.ts does). */
async function findEverywhere(needle: string): Promise<string[]> {
  const { rows: columns } = await t.db.pool.query<{ table_schema: string; table_name: string; column_name: string }>(
    `select c.table_schema, c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name and tb.table_type = 'BASE TABLE'
      where c.table_schema not in ('pg_catalog', 'information_schema')
        and (c.data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea') or c.udt_name in ('text', 'varchar', 'jsonb'))`,
  );
  expect(columns.some((c) => c.table_name === 'outcome_reviews' && c.column_name === 'note')).toBe(true);
  const hits: string[] = [];
  for (const c of columns) {
    const q = `select count(*)::int as n from "${c.table_schema}"."${c.table_name}" where "${c.column_name}"::text ilike $1`;
    const { rows } = await t.db.pool.query<{ n: number }>(q, [`%${needle}%`]);
    if (rows[0]!.n > 0) hits.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
  }
  return hits;
}

describe('review rules', () => {
  it('the second-coder draw is reproducible from the case id and the secret, and its rate is the setting', () => {
    const id = randomUUID();
    expect(secondCoderDraw(TEST_SECRET, id)).toBe(secondCoderDraw(TEST_SECRET, id));
    expect(secondCoderDraw(TEST_SECRET, id)).not.toBe(secondCoderDraw('another-secret-0123456789abcdef0123', id));
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    for (const rate of [0.05, 0.2, 0.5]) {
      const drawn = ids.filter((i) => reviewsRequiredFor(TEST_SECRET, i, rate) === 2).length / ids.length;
      // 20 000 draws: the standard error is at most 0.0036, so 0.015 is over 4 of them.
      expect(Math.abs(drawn - rate)).toBeLessThan(0.015);
    }
    expect(ids.every((i) => reviewsRequiredFor(TEST_SECRET, i, 0) === 1)).toBe(true);
    expect(ids.every((i) => reviewsRequiredFor(TEST_SECRET, i, 1) === 2)).toBe(true);
    const u = ids.map((i) => secondCoderDraw(TEST_SECRET, i));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  it('agreement confirms with the shared signals; disagreement disputes; too few stay provisional', () => {
    const a = { outcome: 'positive_change' as const, signals: ['expressed_doubt', 'sought_help'] };
    const b = { outcome: 'positive_change' as const, signals: ['sought_help', 'none'] };
    const c = { outcome: 'disengaged' as const, signals: ['none'] };
    expect(decide([a], 2)).toEqual({ status: 'provisional' });
    expect(decide([a], 1)).toEqual({ status: 'confirmed', outcome: 'positive_change', signals: ['expressed_doubt', 'sought_help'] });
    expect(decide([a, b], 2)).toEqual({ status: 'confirmed', outcome: 'positive_change', signals: ['sought_help'] });
    expect(decide([a, c], 2)).toEqual({ status: 'disputed' });
    // Only the first `required` count: a later third review changes nothing.
    expect(decide([a, b, c], 2)).toMatchObject({ status: 'confirmed' });
    expect(unknownSignals(['none', 'nope'], ['none'])).toEqual(['nope']);
    expect(outcomeStatusOf({ status: 'closed', outcome: 'other', outcomeStatus: null })).toBe('self_reported');
    expect(outcomeStatusOf({ status: 'active', outcome: null, outcomeStatus: null })).toBeNull();
    expect(outcomeStatusOf({ status: 'closed', outcome: 'other', outcomeStatus: 'disputed' })).toBe('disputed');
    expect(seesAllReviews({ isLead: false, ownIn: false, reviewsIn: 2, required: 2, settled: true })).toBe(false);
    expect(seesAllReviews({ isLead: true, ownIn: false, reviewsIn: 1, required: 2, settled: false })).toBe(false);
    expect(seesAllReviews({ isLead: true, ownIn: false, reviewsIn: 2, required: 2, settled: false })).toBe(true);
  });
});

describe('outcome review', () => {
  it('without review a closed case is self_reported and takes no review (409 review.not_required)', async () => {
    const { programId, lead, sam, kim } = await team({});
    const c = await closedCase(lead, programId, sam);
    expect(c.outcomeStatus).toBe('self_reported');
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'self_reported', reviews_required: null });
    expectProblem(await call(t, kim, 'POST', reviewsUrl(c.id), review('positive_change')), 409, 'review.not_required');
    expect(await reviewRows(c.id)).toBe(0);
    const open = await activeCase(t, lead, programId, sam.id);
    expect((await ok<{ outcomeStatus: string | null }>(t, lead, 'GET', `/v1/cases/${open.id}`)).outcomeStatus).toBeNull();
  });

  it('provisional → confirmed by one peer who cannot read the case otherwise; audited', async () => {
    const { programId, lead, sam, ivy } = await team();
    const c = await closedCase(lead, programId, sam);
    expect(c.outcomeStatus).toBe('provisional');
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'provisional', reviews_required: 1 });
    // ivy is outside the case's scope, yet reviews it: peers review each other's cases.
    expectProblem(await call(t, ivy, 'GET', `/v1/cases/${c.id}`), 404, 'case.not_found');
    const res = await call(
      t,
      ivy,
      'POST',
      reviewsUrl(c.id),
      review('positive_change', ['expressed_doubt', 'sought_help'], { note: 'Clear doubt.' }),
    );
    expect(res.statusCode).toBe(201);
    const r = res.json<Receipt>();
    expect(r).toEqual({
      id: expect.any(String),
      caseId: c.id,
      reviewerId: ivy.id,
      kind: 'review',
      outcome: 'positive_change',
      signals: ['expressed_doubt', 'sought_help'],
      confidence: 'medium',
      createdAt: expect.any(String),
      outcomeStatus: 'confirmed',
    });
    expect(await caseRow(c.id)).toMatchObject({
      outcome_status: 'confirmed',
      reviewed_outcome: 'positive_change',
      reviewed_signals: ['expressed_doubt', 'sought_help'],
    });
    expect((await ok<{ outcomeStatus: string }>(t, lead, 'GET', `/v1/cases/${c.id}`)).outcomeStatus).toBe('confirmed');
    // A confirmed case is no longer open for review.
    expectProblem(await call(t, lead, 'POST', reviewsUrl(c.id), review('positive_change')), 409, 'review.not_open');
    const list = await ok<ReviewList>(t, ivy, 'GET', reviewsUrl(c.id));
    expect(list).toMatchObject({ outcomeStatus: 'confirmed', reviewsRequired: 1, reviewsIn: 1 });
    expect(list.items.map((i) => i.note)).toEqual(['Clear doubt.']);
    expect(await auditCount(t, 'review.create', ivy.id)).toBe(1);
    expect(await auditCount(t, 'review.list', ivy.id)).toBe(1);
  });

  it('drawn for second coding: blind until your own review is in; two agreeing confirm with the shared signals', async () => {
    const { programId, lead, ana, sam, kim, ivy } = await team({ ...REVIEW, secondCoderRate: 1 });
    const c = await closedCase(lead, programId, sam);
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'provisional', reviews_required: 2 });
    const first = await ok<Receipt>(t, kim, 'POST', reviewsUrl(c.id), review('positive_change', ['expressed_doubt', 'sought_help']));
    expect(first.outcomeStatus).toBe('provisional');
    // ivy and the lead have not reviewed, and only one of two is in: neither sees kim's review.
    const blindIvy = await ok<ReviewList>(t, ivy, 'GET', reviewsUrl(c.id));
    expect(blindIvy).toMatchObject({ reviewsIn: 1, reviewsRequired: 2, items: [] });
    expect((await ok<ReviewList>(t, lead, 'GET', reviewsUrl(c.id))).items).toEqual([]);
    expect((await ok<ReviewList>(t, kim, 'GET', reviewsUrl(c.id))).items.map((i) => i.reviewerId)).toEqual([kim.id]);
    const second = await ok<Receipt>(t, ivy, 'POST', reviewsUrl(c.id), review('positive_change', ['sought_help'], { confidence: 'high' }));
    expect(second.outcomeStatus).toBe('confirmed');
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'confirmed', reviewed_signals: ['sought_help'] });
    for (const who of [kim, ivy, lead]) {
      expect((await ok<ReviewList>(t, who, 'GET', reviewsUrl(c.id))).items.map((i) => i.reviewerId)).toEqual([kim.id, ivy.id]);
    }
    // An analyst who reviewed nothing still sees nothing.
    expect((await ok<ReviewList>(t, ana, 'GET', reviewsUrl(c.id))).items).toEqual([]);
    // The agreement report's read: the pair, in order.
    const pairs = await closedReviewPairs(t.db.db, programId, new Date(Date.now() - 3_600_000), new Date(Date.now() + 3_600_000));
    expect(pairs).toEqual([
      {
        caseId: c.id,
        a: { outcome: 'positive_change', signals: ['expressed_doubt', 'sought_help'] },
        b: { outcome: 'positive_change', signals: ['sought_help'] },
      },
    ]);
  });

  it('disputed → adjudicated by a lead; adjudication needs a dispute', async () => {
    const { programId, lead, sam, kim, ivy } = await team({ ...REVIEW, secondCoderRate: 1 });
    const c = await closedCase(lead, programId, sam);
    expectProblem(
      await call(t, lead, 'POST', `/v1/cases/${c.id}/outcome-adjudication`, { outcome: 'disengaged', signals: [], note: 'n' }),
      409,
      'review.not_disputed',
    );
    await ok(t, kim, 'POST', reviewsUrl(c.id), review('positive_change'));
    const second = await ok<Receipt>(t, ivy, 'POST', reviewsUrl(c.id), review('disengaged', ['none']));
    expect(second.outcomeStatus).toBe('disputed');
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'disputed', reviewed_outcome: null });
    expect((await ok<ReviewList>(t, lead, 'GET', reviewsUrl(c.id))).items).toHaveLength(2);
    // Interveners may not adjudicate.
    expectProblem(
      await call(t, kim, 'POST', `/v1/cases/${c.id}/outcome-adjudication`, { outcome: 'disengaged', signals: ['none'], note: 'n' }),
      403,
    );
    const adj = await call(t, lead, 'POST', `/v1/cases/${c.id}/outcome-adjudication`, {
      outcome: 'disengaged',
      signals: ['none'],
      note: 'The last messages read as a polite goodbye.',
    });
    expect(adj.statusCode).toBe(201);
    expect(adj.json<Receipt>()).toMatchObject({
      kind: 'adjudication',
      outcome: 'disengaged',
      confidence: null,
      outcomeStatus: 'adjudicated',
    });
    expect(await caseRow(c.id)).toMatchObject({
      outcome_status: 'adjudicated',
      reviewed_outcome: 'disengaged',
      reviewed_signals: ['none'],
    });
    expect((await ok<{ outcomeStatus: string }>(t, lead, 'GET', `/v1/cases/${c.id}`)).outcomeStatus).toBe('adjudicated');
    expect((await ok<ReviewList>(t, lead, 'GET', reviewsUrl(c.id))).items.map((i) => i.kind)).toEqual(['review', 'review', 'adjudication']);
    expect(await auditCount(t, 'review.adjudicate', lead.id)).toBe(1);
  });

  it('no former holder reviews (409 review.conflict_of_interest), nobody reviews twice (409 review.duplicate)', async () => {
    const { programId, lead, sam, kim, ivy } = await team({ ...REVIEW, secondCoderRate: 1 });
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(120) });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'paid_message', occurredAt: ago(10) });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: kim.id });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'no_response' });
    // kim held it last, sam before: neither may review.
    expectProblem(await call(t, kim, 'POST', reviewsUrl(c.id), review('no_response', ['none'])), 409, 'review.conflict_of_interest');
    expectProblem(await call(t, sam, 'POST', reviewsUrl(c.id), review('no_response', ['none'])), 409, 'review.conflict_of_interest');
    await ok(t, ivy, 'POST', reviewsUrl(c.id), review('no_response', ['none']));
    expectProblem(await call(t, ivy, 'POST', reviewsUrl(c.id), review('other', ['none'])), 409, 'review.duplicate');
    expect(await reviewRows(c.id)).toBe(1);
    // Neither former holder hears of a review request, nor finds the case in their pending list.
    for (const who of [sam, kim]) {
      const inbox = await ok<{ items: { kind: string; caseId: string }[] }>(t, who, 'GET', '/v1/me/notifications');
      expect(inbox.items.filter((n) => n.kind === 'review_requested')).toEqual([]);
      expect((await ok<{ items: Packet[] }>(t, who, 'GET', '/v1/reviews/pending')).items).toEqual([]);
    }
  });

  it('refuses a case that is open, another program’s, or a review outcome the stage does not allow', async () => {
    const { programId, lead, sam, ivy } = await team();
    const open = await activeCase(t, lead, programId, sam.id);
    expectProblem(await call(t, ivy, 'POST', reviewsUrl(open.id), review('other')), 409, 'review.not_open');
    const other = await team();
    const theirs = await closedCase(other.lead, other.programId, other.sam);
    expectProblem(await call(t, ivy, 'POST', reviewsUrl(theirs.id), review('other')), 404, 'case.not_found');
    expectProblem(await call(t, ivy, 'GET', reviewsUrl(theirs.id)), 404, 'case.not_found');
    expectProblem(await call(t, ivy, 'POST', reviewsUrl(randomUUID()), review('other')), 404, 'case.not_found');
    const never = await activeCase(t, lead, programId, sam.id);
    await ok(t, lead, 'POST', `/v1/cases/${never.id}/close`, { outcome: 'other' });
    expectProblem(await call(t, ivy, 'POST', reviewsUrl(never.id), review('positive_change')), 409, 'case.invalid_outcome');
  });

  it('a replayed review (same Idempotency-Key) answers the first receipt to a reviewer outside the case scope', async () => {
    const { programId, lead, sam, ivy } = await team({ ...REVIEW, secondCoderRate: 1 });
    const c = await closedCase(lead, programId, sam);
    const key = { 'idempotency-key': mark('review') };
    const first = await call(t, ivy, 'POST', reviewsUrl(c.id), review('positive_change'), key);
    expect(first.statusCode).toBe(201);
    const again = await call(t, ivy, 'POST', reviewsUrl(c.id), review('positive_change'), key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await reviewRows(c.id)).toBe(1);
    expect((await call(t, ivy, 'POST', reviewsUrl(c.id), review('other'), key)).statusCode).toBe(422);
  });

  it('hostile bodies are 400 and store nothing', async () => {
    const { programId, lead, sam, ivy } = await team();
    const c = await closedCase(lead, programId, sam);
    const bad = [
      review('positive_change', ['made_up_signal']),
      review('positive_change', ['expressed_doubt'], { reviewerId: ivy.id }),
      review('positive_change', ['expressed_doubt'], { note: 'x'.repeat(2001) }),
      review('positive_change', ['expressed_doubt'], { confidence: 'certain' }),
      review('positive_change', ['expressed_doubt'], { note: 'bad\u0000byte' }),
      { outcome: 'positive_change', signals: ['expressed_doubt'] },
      review('great', ['expressed_doubt']),
    ];
    for (const body of bad) {
      const res = await call(t, ivy, 'POST', reviewsUrl(c.id), body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expectProblem(await call(t, ivy, 'POST', reviewsUrl(c.id), review('positive_change', ['none', 'nope'])), 400, 'review.unknown_signal');
    expect(await reviewRows(c.id)).toBe(0);
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'provisional' });
  });

  it('the pending list shows what review needs and no identity, and empties once reviewed', async () => {
    const { programId, lead, ana, sam, ivy } = await team({ ...REVIEW, secondCoderRate: 1 });
    const summary = mark('They wondered aloud');
    const c = await closedCase(lead, programId, sam, 'positive_change', summary);
    const full = await ok<{ profile: { handle: string } }>(t, lead, 'GET', `/v1/cases/${c.id}`);
    const page = await call(t, ivy, 'GET', '/v1/reviews/pending');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(full.profile.handle);
    const items = page.json<{ items: Packet[]; nextCursor: string | null }>().items;
    expect(items.map((i) => i.caseId)).toEqual([c.id]);
    expect(items[0]).toMatchObject({
      stage: 'responded',
      outcome: 'positive_change',
      outcomeStatus: 'provisional',
      reviewsRequired: 2,
      reviewsIn: 0,
    });
    expect(items[0]!.touchpoints.map((tp) => tp.summary)).toEqual([null, summary]);
    expect(Object.keys(items[0]!)).not.toContain('profile');
    // The holder has nothing to review; the analyst and the lead have the case too.
    expect((await ok<{ items: Packet[] }>(t, sam, 'GET', '/v1/reviews/pending')).items).toEqual([]);
    expect((await ok<{ items: Packet[] }>(t, ana, 'GET', '/v1/reviews/pending')).items.map((i) => i.caseId)).toEqual([c.id]);
    await ok(t, ivy, 'POST', reviewsUrl(c.id), review('positive_change'));
    expect((await ok<{ items: Packet[] }>(t, ivy, 'GET', '/v1/reviews/pending')).items).toEqual([]);
    // Still one review short: the lead sees it waiting for a second review.
    const forLead = await ok<{ items: Packet[] }>(t, lead, 'GET', '/v1/reviews/pending');
    expect(forLead.items.map((i) => [i.caseId, i.reviewsIn])).toEqual([[c.id, 1]]);
    expect(await auditCount(t, 'review.pending.list', ivy.id)).toBe(2);
    expect((await call(t, ivy, 'GET', '/v1/reviews/pending?limit=0')).statusCode).toBe(400);
    expect((await call(t, ivy, 'GET', '/v1/reviews/pending?cursor=nonsense')).statusCode).toBe(400);
  });

  it('review_requested goes to the leads and analysts at closing under review, never to the holder', async () => {
    const { programId, lead, ana, sam, ivy } = await team();
    const c = await closedCase(lead, programId, sam);
    const requests = async (who: Who) =>
      (await ok<{ items: { kind: string; caseId: string }[] }>(t, who, 'GET', '/v1/me/notifications')).items.filter(
        (n) => n.kind === 'review_requested',
      );
    expect((await requests(lead)).map((n) => n.caseId)).toEqual([c.id]);
    expect((await requests(ana)).map((n) => n.caseId)).toEqual([c.id]);
    expect(await requests(sam)).toEqual([]);
    expect(await requests(ivy)).toEqual([]);
    // Without review nobody is asked.
    const off = await team({});
    await closedCase(off.lead, off.programId, off.sam);
    expect(await requests(off.lead)).toEqual([]);
  });

  it('a reopen and a second close keep the draw; the new closing is provisional again', async () => {
    const { programId, lead, sam, ivy } = await team({ ...REVIEW, secondCoderRate: 1 });
    const c = await closedCase(lead, programId, sam);
    expect((await caseRow(c.id)).reviews_required).toBe(2);
    await setSettings(lead, programId, { secondCoderRate: 0 });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/reopen`, { reason: 'They wrote again' });
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: null, reviews_required: 2 });
    const again = await ok<{ outcomeStatus: string }>(t, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'disengaged' });
    expect(again.outcomeStatus).toBe('provisional');
    expect((await caseRow(c.id)).reviews_required).toBe(2);
    expect((await ok<Receipt>(t, ivy, 'POST', reviewsUrl(c.id), review('disengaged', ['none']))).outcomeStatus).toBe('provisional');
  });

  it('erasure deletes review notes and keeps their codes', async () => {
    const { programId, lead, sam, ivy } = await team();
    const c = await closedCase(lead, programId, sam);
    const note = mark('reviewer-note');
    await ok(t, ivy, 'POST', reviewsUrl(c.id), review('positive_change', ['sought_help'], { note }));
    expect(await findEverywhere(note)).toEqual(['public.outcome_reviews.note']);
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'Erasure request' });
    expect(await findEverywhere(note)).toEqual([]);
    const { rows } = await t.db.pool.query('select outcome, signals, confidence, note from outcome_reviews where case_id = $1', [c.id]);
    expect(rows).toEqual([{ outcome: 'positive_change', signals: ['sought_help'], confidence: 'medium', note: null }]);
    expect(await caseRow(c.id)).toMatchObject({ outcome_status: 'confirmed', reviewed_outcome: 'positive_change' });
    expect((await ok<ReviewList>(t, ivy, 'GET', reviewsUrl(c.id))).items.map((i) => i.note)).toEqual([null]);
  });
});

describe('reports under review', () => {
  interface Row {
    group: string;
    positive: number | null;
    pendingReview?: number | null;
    positiveRate: { value: number } | null;
  }
  const report = (who: Who, programId: string, extra = '') =>
    ok<{ rows: Row[]; definition: Record<string, unknown> }>(
      t,
      who,
      'GET',
      `/v1/reports/engagement?programId=${programId}&from=2020-01-01&to=2030-01-01${extra}`,
    );

  it('count positive from reviewed outcomes only, with pendingReview, and say so in the definition', async () => {
    const { programId, lead, sam, kim, ivy } = await team();
    const confirmed = await closedCase(lead, programId, sam);
    const overturned = await closedCase(lead, programId, sam);
    await closedCase(lead, programId, kim);
    // One of the three is waiting: positive counts only the confirmed one.
    await ok(t, ivy, 'POST', reviewsUrl(confirmed.id), review('positive_change'));
    await ok(t, ivy, 'POST', reviewsUrl(overturned.id), review('disengaged', ['none']));
    const r = await report(lead, programId);
    const total = r.rows.at(-1)!;
    expect(total).toMatchObject({ group: 'total', positive: 1, pendingReview: 1 });
    expect(total.positiveRate!.value).toBeCloseTo(1 / 3, 3);
    expect(r.definition).toMatchObject({ positiveSource: 'reviewed' });
    expect(String(r.definition['positive'])).toContain('review');
    const byHolder = await report(lead, programId, '&groupBy=intervener');
    const rowOf = (id: string) => byHolder.rows.find((x) => x.group === id);
    expect(rowOf(sam.id)).toMatchObject({ positive: 1, pendingReview: 0 });
    expect(rowOf(kim.id)).toMatchObject({ positive: 0, pendingReview: 1 });
    const csv = await call(t, lead, 'GET', `/v1/reports/engagement?programId=${programId}&from=2020-01-01&to=2030-01-01&format=csv`);
    const [header, ...lines] = csv.body.trim().split(/\r?\n/);
    expect(header!.split(',').slice(0, 9)).toEqual([
      'group',
      'flagged',
      'accepted',
      'contacted',
      'responded',
      'sustained',
      'positive',
      'referred',
      'pendingReview',
    ]);
    expect(lines.at(-1)!.split(',').slice(0, 9)).toEqual(['total', '3', '3', '3', '3', '0', '1', '0', '1']);
    // Turning review off shows the self-reported figure again, and no backlog.
    await setSettings(lead, programId, { outcomeReview: 'off' });
    const off = await report(lead, programId);
    expect(off.rows.at(-1)).toMatchObject({ positive: 3 });
    expect(off.rows.at(-1)).not.toHaveProperty('pendingReview');
    expect(off.definition).toMatchObject({ positiveSource: 'self_reported', positive: 'closed with outcome positive_change' });
  });

  it('small pendingReview counts are suppressed like any count', async () => {
    const { programId, lead, sam } = await team({ ...REVIEW, minCellSize: 3 });
    for (let i = 0; i < 3; i++) await closedCase(lead, programId, sam);
    const fresh = await report(lead, programId);
    expect(fresh.rows.at(-1)).toMatchObject({ pendingReview: 3, positive: 0 });
    const more = await team({ ...REVIEW, minCellSize: 5 });
    await closedCase(more.lead, more.programId, more.sam);
    const small = await report(more.lead, more.programId);
    expect(small.rows.at(-1)).toMatchObject({ pendingReview: null, suppressed: true });
  });
});
