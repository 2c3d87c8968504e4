import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, followUps } from '../src/db/schema/index.js';
import { deriveStage } from '../src/domain/touchpoints/stage.js';
import { touchpointHistory } from '../src/domain/touchpoints/store.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

let t: TestApp;
let programId: string;
let lead: Who;
let analyst: Who;
let sam: Who;
let kim: Who;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

beforeAll(async () => {
  t = await createTestApp();
  ({ programId, lead, analyst, sam, kim } = await cast(
    t,
    {
      lead: 'lead',
      analyst: 'analyst',
      sam: { role: 'intervener', specialisms: ['far_right'], languages: ['en'] },
      kim: 'intervener',
    },
    { sustainedMinMessages: 5, sustainedMinInbound: 2, followUpAfter: 'P3D' },
  ));
});
afterAll(() => t.close());

describe('the full story', () => {
  it('flag → triage → approve → candidates → assign → outbound → inbound × N → sustained → close', async () => {
    const flagged = await ok<{ id: string }>(t, analyst, 'POST', '/v1/cases', flagBody(programId, { flaggedAt: minutesAgo(600) }));
    const id = flagged.id;
    await ok(t, analyst, 'POST', `/v1/cases/${id}/triage`, { decision: 'accept', reason: 'public posts escalate' });
    await ok(t, lead, 'POST', `/v1/cases/${id}/approve`, {});
    const cands = await ok<{ items: { intervenerId: string }[] }>(t, lead, 'GET', `/v1/cases/${id}/candidates`);
    expect(cands.items[0]!.intervenerId).toBe(sam.id);
    await ok(t, lead, 'POST', `/v1/cases/${id}/assignment`, { intervenerId: sam.id });

    const opened = minutesAgo(300);
    const replied = minutesAgo(200);
    const second = minutesAgo(50);
    const first = await ok(t, sam, 'POST', `/v1/cases/${id}/touchpoints`, {
      direction: 'outbound',
      channel: 'paid_message',
      occurredAt: opened,
      approaches: ['empathetic', 'nonjudgmental'],
      costCents: 100,
      summary: 'Opened with shared experience',
    });
    expect(first).toMatchObject({ caseId: id, direction: 'outbound', loggedBy: sam.id, approaches: ['empathetic', 'nonjudgmental'] });
    let c = await ok(t, sam, 'GET', `/v1/cases/${id}`);
    expect(c).toMatchObject({ stage: 'contacted', contactedAt: opened, respondedAt: null });

    // The outbound message scheduled a follow-up followUpAfter (P3D) later.
    const fus = await t.db.db.select().from(followUps).where(eq(followUps.caseId, id));
    expect(fus).toHaveLength(1);
    expect(fus[0]!.dueAt.getTime() - new Date(first['occurredAt'] as string).getTime()).toBe(3 * 86_400_000);
    expect(fus[0]!.assigneeId).toBe(sam.id);

    await ok(t, sam, 'POST', `/v1/cases/${id}/touchpoints`, { direction: 'inbound', channel: 'direct_message', occurredAt: replied });
    c = await ok(t, sam, 'GET', `/v1/cases/${id}`);
    expect(c).toMatchObject({ stage: 'responded', contactedAt: opened, respondedAt: replied, sustainedAt: null });

    // A second outbound does not add another follow-up while one is outstanding.
    await ok(t, sam, 'POST', `/v1/cases/${id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: minutesAgo(150),
    });
    expect(await t.db.db.select().from(followUps).where(eq(followUps.caseId, id))).toHaveLength(1);
    await ok(t, sam, 'POST', `/v1/cases/${id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: minutesAgo(100),
    });
    c = await ok(t, sam, 'GET', `/v1/cases/${id}`);
    expect(c['stage']).toBe('responded');
    await ok(t, sam, 'POST', `/v1/cases/${id}/touchpoints`, { direction: 'inbound', channel: 'direct_message', occurredAt: second });
    c = await ok(t, sam, 'GET', `/v1/cases/${id}`);
    expect(c).toMatchObject({ stage: 'sustained', contactedAt: opened, respondedAt: replied, sustainedAt: second });

    const list = await ok<{ items: { direction: string }[] }>(t, sam, 'GET', `/v1/cases/${id}/touchpoints`);
    expect(list.items.map((i) => i.direction)).toEqual(['outbound', 'inbound', 'outbound', 'outbound', 'inbound']);

    const closed = await ok(t, sam, 'POST', `/v1/cases/${id}/close`, { outcome: 'positive_change', note: 'moved on' });
    expect(closed).toMatchObject({ status: 'closed', stage: 'sustained', outcome: 'positive_change' });
    const after = await t.db.db.select().from(followUps).where(eq(followUps.caseId, id));
    expect(after.every((f) => f.status === 'cancelled')).toBe(true);
  });

  it('touchpoints logged out of order give the right stage and holders', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(1000) });
    // Logged late and backwards: the reply (t=-80) arrives before the opener (t=-90) is logged.
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: minutesAgo(80),
    });
    expect((await ok(t, sam, 'GET', `/v1/cases/${c.id}`))['stage']).toBe('none');
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: minutesAgo(90),
    });
    const read = await ok(t, sam, 'GET', `/v1/cases/${c.id}`);
    expect(read['stage']).toBe('responded');
  });
});

describe('stage facts written with the insert', () => {
  it('are what deriveStage gives from the stored history after each write, through late logs and ties', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(1000) });
    const tie = minutesAgo(500);
    // Late, backwards and at the same instant: two outbound messages at `tie` with different
    // approaches (the first by id is the first contact), replies before and after.
    const log: [string, string, string[]?][] = [
      ['inbound', minutesAgo(400)],
      ['outbound', tie, ['questioning']],
      ['outbound', tie, ['empathetic']],
      ['inbound', tie],
      ['outbound', minutesAgo(600), ['nonjudgmental']],
      ['inbound', minutesAgo(300)],
      ['outbound', minutesAgo(200), ['empathetic']],
      ['inbound', minutesAgo(100)],
    ];
    const rules = { minMessages: 5, minInbound: 2 };
    const [caseRow] = await t.db.db.select().from(cases).where(eq(cases.id, c.id));
    for (const [direction, occurredAt, approaches] of log) {
      await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction,
        channel: 'direct_message',
        occurredAt,
        ...(approaches ? { approaches, costCents: 50 } : {}),
      });
      const [row] = await t.db.db.select().from(cases).where(eq(cases.id, c.id));
      const derived = deriveStage(await touchpointHistory(t.db.db, c.id), rules);
      for (const [k, v] of Object.entries(derived)) expect(row![k as keyof typeof row], k).toEqual(v);
    }
    const [final] = await t.db.db.select().from(cases).where(eq(cases.id, c.id));
    expect(final).toMatchObject({ stage: 'sustained', touchpointCount: 8, inboundCount: 4, firstOutboundApproaches: ['nonjudgmental'] });
    expect(final!.version).toBe(caseRow!.version + log.length);
  });

  it('fold a touchpoint after the last one into the stored facts; a late one, a rules change, a void or an old row derive them again', async () => {
    const {
      programId: p,
      l,
      i,
      a,
    } = await cast(t, { l: 'lead', i: 'intervener', a: 'admin' }, { sustainedMinMessages: 4, sustainedMinInbound: 2 });
    const c = await activeCase(t, l, p, i.id, { flaggedAt: minutesAgo(1000) });
    let rules = { minMessages: 4, minInbound: 2 };
    const base = Date.now();
    const at = (minute: number) => new Date(base - minute * 60_000).toISOString();
    const stored = async () => (await t.db.db.select().from(cases).where(eq(cases.id, c.id)))[0]!;
    const logged: string[] = [];
    const logAndCheck = async (direction: 'inbound' | 'outbound', minute: number) => {
      const tp = await ok<{ id: string }>(t, i, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction,
        channel: 'direct_message',
        occurredAt: at(minute),
        ...(direction === 'outbound' ? { approaches: ['questioning'], costCents: 25 } : {}),
      });
      logged.push(tp.id);
      const row = await stored();
      const derived = deriveStage(await touchpointHistory(t.db.db, c.id), rules);
      for (const [k, v] of Object.entries(derived)) expect(row[k as keyof typeof row], `${k} after ${direction} at -${minute}`).toEqual(v);
      return row;
    };
    await logAndCheck('inbound', 120); // before first contact: not part of the conversation
    await logAndCheck('outbound', 100);
    await logAndCheck('inbound', 90);
    expect(await logAndCheck('outbound', 80)).toMatchObject({
      stage: 'responded',
      conversationMessages: 3,
      conversationInbound: 1,
      stageRules: '4:2',
    });
    await logAndCheck('outbound', 85); // late: between two already logged

    // Stricter or looser rules apply from the next write: folding under the old ones would say
    // sustained at the fifth message; derived again under 3:1 it was at the third (-85).
    const patched = await call(
      t,
      a,
      'PATCH',
      `/v1/programs/${p}`,
      { settings: { sustainedMinMessages: 3, sustainedMinInbound: 1 } },
      { 'if-match': '*' },
    );
    expect(patched.statusCode).toBe(200);
    rules = { minMessages: 3, minInbound: 1 };
    expect(await logAndCheck('inbound', 70)).toMatchObject({
      stage: 'sustained',
      sustainedAt: new Date(at(85)),
      stageRules: '3:1',
    });
    await logAndCheck('outbound', 60);

    // A void derives them from what remains; the next touchpoint folds again.
    const voided = await call(t, i, 'POST', `/v1/touchpoints/${logged.at(-1)}/void`, { reason: 'logged on the wrong case' });
    expect(voided.statusCode).toBe(200);
    await logAndCheck('inbound', 50);

    // A row written before the facts kept their rules (migration 0017) is derived again, not folded.
    await t.db.pool.query('update cases set stage_rules = null, conversation_messages = 0, conversation_inbound = 0 where id = $1', [c.id]);
    expect(await logAndCheck('outbound', 40)).toMatchObject({ conversationMessages: 7, conversationInbound: 3, touchpointCount: 8 });
    await logAndCheck('inbound', 30);
    // At the same instant as the last one: after it by id, so folded; the last direction is the later id's.
    await logAndCheck('outbound', 30);
    expect(await logAndCheck('inbound', 30)).toMatchObject({ lastTouchpointDirection: 'inbound', lastTouchpointId: logged.at(-1) });
  });
});

describe('stage facts: which path a write takes', () => {
  const facts = async (caseId: string) => (await t.db.db.select().from(cases).where(eq(cases.id, caseId)))[0]!;
  const derivedNow = async (caseId: string) => deriveStage(await touchpointHistory(t.db.db, caseId), { minMessages: 5, minInbound: 2 });
  const expectDerived = async (caseId: string) => {
    const row = await facts(caseId);
    for (const [k, v] of Object.entries(await derivedNow(caseId))) expect(row[k as keyof typeof row], k).toEqual(v);
  };
  const post = (caseId: string, direction: 'inbound' | 'outbound', occurredAt: string, costCents?: number) =>
    ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${caseId}/touchpoints`, {
      direction,
      channel: 'direct_message',
      occurredAt,
      ...(costCents !== undefined ? { costCents } : {}),
    });

  it('an in-order touchpoint folds without reading the history; after any other update of the case it derives again', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(1000) });
    const first = await post(c.id, 'outbound', minutesAgo(50), 100);
    await post(c.id, 'inbound', minutesAgo(40));
    // Changed behind the service's back: only a write that reads the history again would notice.
    await t.db.pool.query('update touchpoints set cost_cents = 1000 where id = $1', [first.id]);
    await post(c.id, 'outbound', minutesAgo(30), 10);
    expect((await facts(c.id)).outboundCostCents).toBe(110); // folded: 100 + 10, the history not read
    // Any update of the case besides the stage writes (here a bare version bump) makes the next write derive.
    await t.db.pool.query('update cases set version = version + 1 where id = $1', [c.id]);
    await post(c.id, 'inbound', minutesAgo(20));
    expect((await facts(c.id)).outboundCostCents).toBe(1010);
    await expectDerived(c.id);
  });

  it('a touchpoint at the same instant as the last one but with a smaller id is put before it, not folded after it', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(1000) });
    const instant = minutesAgo(30);
    await post(c.id, 'outbound', minutesAgo(40), 5);
    const last = await post(c.id, 'inbound', instant);
    // The last one's id made larger than any the service will generate (as one from another process may be).
    const big = 'ffffffff-ffff-7fff-bfff-ffffffffffff';
    await t.db.pool.query('update touchpoints set id = $2 where id = $1', [last.id, big]);
    await t.db.pool.query('update cases set last_touchpoint_id = $2 where id = $1', [c.id, big]);
    await post(c.id, 'outbound', instant, 5);
    expect(await facts(c.id)).toMatchObject({ lastTouchpointId: big, lastTouchpointDirection: 'inbound', touchpointCount: 3 });
    await expectDerived(c.id);
  });

  it('the history orders touchpoints to the millisecond, then by id, as the fold compares them (not by microseconds)', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(1000) });
    const a = await post(c.id, 'outbound', minutesAgo(20), 5);
    const b = await post(c.id, 'inbound', minutesAgo(10));
    // Written behind the service's back with microseconds: b before a by microseconds, a before b by id.
    await t.db.pool.query(`update touchpoints set occurred_at = '2026-01-01T00:00:00.123900Z' where id = $1`, [a.id]);
    await t.db.pool.query(`update touchpoints set occurred_at = '2026-01-01T00:00:00.123100Z' where id = $1`, [b.id]);
    expect((await touchpointHistory(t.db.db, c.id)).map((h) => h.id)).toEqual([a.id, b.id]);
  });

  it('concurrent writes on one case each see the others: the facts are those of the whole history', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(1000) });
    const when = [90, 80, 70, 85, 60, 75, 50, 65];
    await Promise.all(when.map((m, k) => post(c.id, k % 2 ? 'inbound' : 'outbound', minutesAgo(m), k % 2 ? undefined : 20)));
    expect(await facts(c.id)).toMatchObject({ touchpointCount: 8, inboundCount: 4, outboundCostCents: 80 });
    await expectDerived(c.id);
  });
});

describe('touchpoint rules', () => {
  it('refuses future, pre-flag and invalid touchpoints', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(60) });
    const base = { direction: 'outbound', channel: 'direct_message' };
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { ...base, occurredAt: new Date(Date.now() + 3_600_000).toISOString() }),
      400,
      'touchpoint.in_future',
    );
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { ...base, occurredAt: minutesAgo(120) }),
      400,
      'touchpoint.before_flagged',
    );
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { ...base, occurredAt: minutesAgo(1), approaches: ['shouting'] }),
      400,
      'request.invalid',
    );
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { ...base, occurredAt: minutesAgo(1), summary: 'x'.repeat(501) }),
      400,
      'request.invalid',
    );
    expectProblem(
      await call(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { ...base, occurredAt: minutesAgo(1), sentBy: 'system' }),
      400,
      'request.invalid',
    );
  });

  it('outbound needs an active case; only the holder or a lead may log', async () => {
    const flagged = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId));
    expectProblem(
      await call(t, lead, 'POST', `/v1/cases/${flagged.id}/touchpoints`, {
        direction: 'outbound',
        channel: 'comment',
        occurredAt: minutesAgo(0),
      }),
      409,
      'touchpoint.case_not_active',
    );
    const c = await activeCase(t, lead, programId, sam.id);
    expectProblem(
      await call(t, kim, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: minutesAgo(0) }),
      404,
      'case.not_found',
    );
    expectProblem(
      await call(t, analyst, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'outbound',
        channel: 'comment',
        occurredAt: minutesAgo(0),
      }),
      403,
    );
    const byLead = await call(t, lead, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'comment',
      occurredAt: minutesAgo(0),
    });
    expect(byLead.statusCode).toBe(201);
  });

  it('credits stages to the holder at the moment after a reassignment', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: minutesAgo(500) });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction: 'outbound', channel: 'comment', occurredAt: minutesAgo(1) });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: kim.id });
    await ok(t, kim, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'comment',
      occurredAt: new Date().toISOString(),
    });
    const { cases } = await import('../src/db/schema/index.js');
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, c.id));
    expect(row).toMatchObject({ contactedBy: sam.id, respondedBy: kim.id, stage: 'responded' });
  });
});
