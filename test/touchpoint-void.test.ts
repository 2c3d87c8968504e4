import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, followUps, notifications, touchpoints } from '../src/db/schema/index.js';
import { fromRaw, fromRollups } from '../src/domain/reports/engagement.js';
import { rollupAll } from '../src/domain/reports/rollup.js';
import { fireResponseSla } from '../src/domain/reminders/fire.js';
import { awaitingResponseSince } from '../src/domain/touchpoints/store.js';
import { VOID_WINDOW_MS, voidRefusal } from '../src/domain/touchpoints/rules.js';
import { createTestApp, expectProblem, type TestApp, TestClock } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, ok } from './helpers/story.js';

const clock = new TestClock();
let t: TestApp;
let programId: string;
let lead: Who;
let analyst: Who;
let admin: Who;
let sam: Who;
let kim: Who;

const MIN = 60_000;
const DAY = 86_400_000;
const ago = (minutes: number) => new Date(clock.now().getTime() - minutes * MIN).toISOString();
const day = (offsetDays: number) => new Date(clock.now().getTime() + offsetDays * DAY).toISOString().slice(0, 10);

type Touchpoint = {
  id: string;
  direction: string;
  loggedBy: string;
  voidedAt: string | null;
  voidedBy: string | null;
  voidReason: string | null;
};
type Row = { group: string; contacted: number; responded: number; sustained: number; responseRate: { value: number } | null };

async function touch(who: Who, caseId: string, direction: 'outbound' | 'inbound', minutesAgo: number, extra: object = {}) {
  return ok<Touchpoint>(t, who, 'POST', `/v1/cases/${caseId}/touchpoints`, {
    direction,
    channel: 'direct_message',
    occurredAt: ago(minutesAgo),
    ...extra,
  });
}
const voidIt = (who: Who, id: string, reason = 'logged on the wrong case') =>
  call(t, who, 'POST', `/v1/touchpoints/${id}/void`, { reason });
const caseRow = async (id: string) => (await t.db.db.select().from(cases).where(eq(cases.id, id)))[0]!;
const tpRow = async (id: string) => (await t.db.db.select().from(touchpoints).where(eq(touchpoints.id, id)))[0]!;
const followUpsOf = (caseId: string) => t.db.db.select().from(followUps).where(eq(followUps.caseId, caseId)).orderBy(followUps.id);
const awaitingReply = async (who: Who, caseId: string) =>
  (await ok<{ items: { id: string; awaitingReply: boolean }[] }>(t, who, 'GET', '/v1/me/caseload')).items.find((i) => i.id === caseId)!
    .awaitingReply;

beforeAll(async () => {
  t = await createTestApp({ clock });
  ({ programId, lead, analyst, admin, sam, kim } = await cast(
    t,
    { lead: 'lead', analyst: 'analyst', admin: 'admin', sam: 'intervener', kim: 'intervener' },
    { minCellSize: 1, sustainedMinMessages: 3, sustainedMinInbound: 1, responseSla: 'PT1H', followUpAfter: 'P3D' },
  ));
});
afterAll(() => t.close());

describe('voiding a touchpoint recomputes the case and the reports as if it had never been logged', () => {
  it('responded → contacted, and the engagement report changes to match', async () => {
    // A program of its own, so the report's numbers are this case's alone.
    const p = await cast(t, { lead: 'lead', sam: 'intervener' }, { minCellSize: 1 });
    const c = await activeCase(t, p.lead, p.programId, p.sam.id, { flaggedAt: ago(1000) });
    const opener = await touch(p.sam, c.id, 'outbound', 300, { approaches: ['empathetic'] });
    const reply = await touch(p.sam, c.id, 'inbound', 200, { summary: 'said thanks' });
    const report = async (groupBy = '') =>
      (
        await ok<{ rows: Row[] }>(
          t,
          p.lead,
          'GET',
          `/v1/reports/engagement?programId=${p.programId}&from=2020-01-01&to=${day(2)}${groupBy ? `&groupBy=${groupBy}` : ''}`,
        )
      ).rows;
    expect((await report()).at(-1)).toMatchObject({ group: 'total', contacted: 1, responded: 1, responseRate: { value: 1 } });
    expect(await ok(t, p.sam, 'GET', `/v1/cases/${c.id}`)).toMatchObject({ stage: 'responded', respondedAt: ago(200) });
    const versionBefore = (await caseRow(c.id)).version;

    const res = await voidIt(p.sam, reply.id, 'it was another person’s reply');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      id: reply.id,
      direction: 'inbound',
      summary: 'said thanks',
      voidedAt: clock.now().toISOString(),
      voidedBy: p.sam.id,
      voidReason: 'it was another person’s reply',
    });

    expect(await ok(t, p.sam, 'GET', `/v1/cases/${c.id}`)).toMatchObject({
      stage: 'contacted',
      contactedAt: ago(300),
      respondedAt: null,
      sustainedAt: null,
      lastTouchpointAt: ago(300),
    });
    const row = await caseRow(c.id);
    expect(row).toMatchObject({ respondedBy: null, touchpointCount: 1, inboundCount: 0, lastTouchpointDirection: 'outbound' });
    // The case changed: its ETag moves, so a client holding the old one must read it again.
    expect(row.version).toBeGreaterThan(versionBefore);

    expect((await report()).at(-1)).toMatchObject({ group: 'total', contacted: 1, responded: 0, responseRate: { value: 0 } });
    const bySam = (await report('intervener')).find((r) => r.group === p.sam.id)!;
    expect(bySam).toMatchObject({ contacted: 1, responded: 0 });
    // The rollups still equal a raw recount of the cases.
    await rollupAll(t.db.db, { programId: p.programId });
    const w = { programId: p.programId, from: '2020-01-01', to: day(2) };
    expect((await fromRollups(t.db.db, w, null)).total).toEqual((await fromRaw(t.db.db, w, null)).total);
    expect((await fromRollups(t.db.db, w, 'intervener')).groups).toEqual((await fromRaw(t.db.db, w, 'intervener')).groups);

    // Still listed, with who voided it and why; the others read back as not voided.
    const list = await ok<{ items: Touchpoint[] }>(t, p.sam, 'GET', `/v1/cases/${c.id}/touchpoints`);
    expect(list.items.map((i) => [i.id, i.voidedBy, i.voidReason])).toEqual([
      [opener.id, null, null],
      [reply.id, p.sam.id, 'it was another person’s reply'],
    ]);
    expect(list.items[0]!.voidedAt).toBeNull();

    // Audited, and in the case's history with its reason.
    expect(await auditCount(t, 'touchpoint.void', p.sam.id)).toBe(1);
    const events = await ok<{ items: { kind: string; actorId: string; reason: string; data: Record<string, unknown> }[] }>(
      t,
      p.lead,
      'GET',
      `/v1/cases/${c.id}/events`,
    );
    expect(events.items.at(-1)).toMatchObject({
      kind: 'touchpoint_voided',
      actorId: p.sam.id,
      reason: 'it was another person’s reply',
      data: { touchpointId: reply.id, direction: 'inbound' },
    });
  });

  it('recomputes stage times and the holder each stage is credited to', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    // Sam logs an opener by mistake; the case moves to Kim, who makes the real contact.
    const wrong = await touch(sam, c.id, 'outbound', 500, { approaches: ['challenging'], costCents: 300 });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: kim.id });
    await touch(kim, c.id, 'outbound', 300, { approaches: ['empathetic'], costCents: 100 });
    await touch(kim, c.id, 'inbound', 200);
    expect(await caseRow(c.id)).toMatchObject({
      stage: 'sustained',
      contactedBy: sam.id,
      respondedBy: kim.id,
      sustainedBy: kim.id,
      firstOutboundApproaches: ['challenging'],
      outboundCostCents: 400,
    });

    // Sam no longer holds the case: for Sam it is out of scope, as any read of it.
    expectProblem(await voidIt(sam, wrong.id), 404, 'touchpoint.not_found');
    // A lead may void any touchpoint of the program, whoever logged it and however old.
    expect((await voidIt(lead, wrong.id)).statusCode).toBe(200);
    const after = await caseRow(c.id);
    expect(after).toMatchObject({
      stage: 'responded',
      contactedBy: kim.id,
      respondedBy: kim.id,
      sustainedAt: null,
      sustainedBy: null,
      firstOutboundApproaches: ['empathetic'],
      outboundCostCents: 100,
    });
    expect(after.contactedAt?.toISOString()).toBe(ago(300));
    expect(after.respondedAt?.toISOString()).toBe(ago(200));
  });

  it('moves sustainedAt to the message that now reaches the threshold', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    await touch(sam, c.id, 'outbound', 400);
    await touch(sam, c.id, 'inbound', 300);
    const third = await touch(sam, c.id, 'outbound', 200);
    await touch(sam, c.id, 'outbound', 100);
    expect((await caseRow(c.id)).sustainedAt?.toISOString()).toBe(ago(200));
    expect((await voidIt(sam, third.id)).statusCode).toBe(200);
    expect(await ok(t, sam, 'GET', `/v1/cases/${c.id}`)).toMatchObject({ stage: 'sustained', sustainedAt: ago(100) });
  });

  it('a second void is 409 touchpoint.already_void and changes nothing', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const tp = await touch(sam, c.id, 'outbound', 10);
    expect((await voidIt(sam, tp.id, 'first')).statusCode).toBe(200);
    const [caseBefore, tpBefore] = [await caseRow(c.id), await tpRow(tp.id)];
    const again = expectProblem(await voidIt(lead, tp.id, 'second'), 409, 'touchpoint.already_void');
    expect(again['voidedAt']).toBe(tpBefore.voidedAt!.toISOString());
    expect(await tpRow(tp.id)).toEqual(tpBefore);
    expect(await caseRow(c.id)).toEqual(caseBefore);
  });

  it('two voids at once: one wins, the other is 409, and the case is recomputed once', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    await touch(sam, c.id, 'outbound', 30);
    const tp = await touch(sam, c.id, 'inbound', 20);
    const statuses = (await Promise.all([voidIt(sam, tp.id, 'sam'), voidIt(lead, tp.id, 'lead')])).map((r) => r.statusCode);
    expect(statuses.sort()).toEqual([200, 409]);
    const { rows } = await t.db.pool.query("select count(*)::int as n from case_events where case_id = $1 and kind = 'touchpoint_voided'", [
      c.id,
    ]);
    expect(rows[0].n).toBe(1);
    expect((await caseRow(c.id)).stage).toBe('contacted');
  });

  it('a closed case keeps only an outcome its remaining stage allows; an erased case is 409 case.erased', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    await touch(sam, c.id, 'outbound', 300);
    const reply = await touch(sam, c.id, 'inbound', 200);
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'positive_change' });
    expectProblem(await voidIt(lead, reply.id), 409, 'case.invalid_outcome');
    expect((await tpRow(reply.id)).voidedAt).toBeNull();
    expect((await caseRow(c.id)).stage).toBe('responded');

    const erased = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const tp = await touch(sam, erased.id, 'outbound', 10);
    const earlier = await touch(sam, erased.id, 'inbound', 5);
    expect((await voidIt(sam, earlier.id, 'wrong person: someone_else')).statusCode).toBe(200);
    await ok(t, lead, 'POST', `/v1/cases/${erased.id}/erase`, { reason: 'request received' });
    expectProblem(await voidIt(lead, tp.id), 409, 'case.erased');
    // A void reason is free text about the case: erasure deletes it (and its copy in the history) like a summary.
    expect(await tpRow(earlier.id)).toMatchObject({ voidReason: null, voidedBy: sam.id });
    const { rows } = await t.db.pool.query('select 1 from case_events where case_id = $1 and reason like $2', [
      erased.id,
      '%someone_else%',
    ]);
    expect(rows).toEqual([]);
  });
});

describe('replies and reminders', () => {
  // The rule: a voided message was never sent or received. Voiding an inbound message leaves
  // nothing to answer (no "awaiting reply", no response-SLA reminder for it); voiding the outbound
  // reply to an inbound message makes that message unanswered again, as if the reply never was:
  // the caseload shows it awaiting a reply and its SLA reminder fires (at once if already late),
  // unless that reminder had fired already (it fires at most once).
  it('voiding the outbound reply makes the message before it unanswered again', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    await touch(sam, c.id, 'outbound', 300);
    const question = await touch(sam, c.id, 'inbound', 200);
    const answer = await touch(sam, c.id, 'outbound', 150);
    expect(await awaitingReply(sam, c.id)).toBe(false);
    expect((await tpRow(question.id)).awaitingResponse).toBe(false);
    expect((await fireResponseSla(t.db.db, clock, question.id)).outcome).toBe('stale');

    expect((await voidIt(sam, answer.id)).statusCode).toBe(200);
    expect(await awaitingReply(sam, c.id)).toBe(true);
    expect((await tpRow(question.id)).awaitingResponse).toBe(true);
    // 200 minutes old against a PT1H SLA: the reconcile scan finds it, and the reminder fires for Sam.
    expect(await awaitingResponseSince(t.db.db, programId, clock.now(), 3_600_000, 1000)).toContain(question.id);
    expect((await fireResponseSla(t.db.db, clock, question.id)).outcome).toBe('fired');
    const told = await t.db.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.staffId, sam.id), eq(notifications.subjectId, question.id)));
    expect(told.map((n) => n.kind)).toEqual(['response_overdue']);
  });

  it('a message whose reminder already fired is not reminded again', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    await touch(sam, c.id, 'outbound', 300);
    const question = await touch(sam, c.id, 'inbound', 200);
    expect((await fireResponseSla(t.db.db, clock, question.id)).outcome).toBe('fired');
    const late = await touch(sam, c.id, 'outbound', 10);
    expect((await voidIt(sam, late.id)).statusCode).toBe(200);
    expect((await tpRow(question.id)).awaitingResponse).toBe(false);
    // Still the person's turn to be answered, as the caseload says.
    expect(await awaitingReply(sam, c.id)).toBe(true);
  });

  it('voiding the only inbound message leaves nothing awaiting a reply and no reminder', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    await touch(sam, c.id, 'outbound', 300);
    const inbound = await touch(sam, c.id, 'inbound', 200);
    expect(await awaitingReply(sam, c.id)).toBe(true);
    expect((await tpRow(inbound.id)).awaitingResponse).toBe(true);

    expect((await voidIt(sam, inbound.id)).statusCode).toBe(200);
    expect(await awaitingReply(sam, c.id)).toBe(false);
    expect((await caseRow(c.id)).stage).toBe('contacted');
    expect((await tpRow(inbound.id)).awaitingResponse).toBe(false);
    expect(await awaitingResponseSince(t.db.db, programId, clock.now(), 3_600_000, 1000)).not.toContain(inbound.id);
    expect((await fireResponseSla(t.db.db, clock, inbound.id)).outcome).toBe('stale');
  });

  it('the follow-up a voided outbound message scheduled goes; the next one logged after it schedules its own', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const wrong = await touch(sam, c.id, 'outbound', 300);
    const [scheduled] = await followUpsOf(c.id);
    expect(scheduled).toMatchObject({ kind: 'follow_up', status: 'pending' });
    const byHand = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/follow-ups`, {
      dueAt: new Date(clock.now().getTime() + 5 * DAY).toISOString(),
      kind: 'check_in',
    });
    clock.advance(1000);
    // Logged later: a follow-up was outstanding then, so it scheduled none of its own.
    const real = await touch(sam, c.id, 'outbound', 100);
    expect(await followUpsOf(c.id)).toHaveLength(2);

    expect((await voidIt(sam, wrong.id)).statusCode).toBe(200);
    const after = await followUpsOf(c.id);
    expect(after.find((f) => f.id === scheduled!.id)).toMatchObject({ status: 'cancelled' });
    expect(after.find((f) => f.id === byHand.id)).toMatchObject({ status: 'pending' });
    // The hand-made check-in was still outstanding, so the rule schedules nothing more.
    expect(after).toHaveLength(2);

    await ok(t, sam, 'POST', `/v1/follow-ups/${byHand.id}/cancel`, {});
    const second = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const wrong2 = await touch(sam, second.id, 'outbound', 300);
    clock.advance(1000);
    const real2 = await touch(sam, second.id, 'outbound', 100);
    expect((await voidIt(sam, wrong2.id)).statusCode).toBe(200);
    const pending = (await followUpsOf(second.id)).filter((f) => f.status === 'pending');
    expect(pending).toHaveLength(1);
    // As the real message would have scheduled it: followUpAfter (P3D) after it happened.
    expect(pending[0]!.dueAt.getTime()).toBe(Date.parse(ago(100)) + 3 * DAY);
    expect(pending[0]!.createdBy).toBe(sam.id);
    // And voiding that one takes its follow-up away too.
    expect((await voidIt(sam, real2.id)).statusCode).toBe(200);
    expect((await followUpsOf(second.id)).filter((f) => f.status === 'pending')).toHaveLength(0);
    void real;
  });
});

describe('who may void', () => {
  it('the logger within 7 days of logging it; after that only a lead', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const early = await touch(sam, c.id, 'outbound', 10);
    const late = await touch(sam, c.id, 'inbound', 5);
    clock.advance(VOID_WINDOW_MS - MIN);
    expect((await voidIt(sam, early.id)).statusCode).toBe(200);
    clock.advance(2 * MIN);
    expectProblem(await voidIt(sam, late.id), 403, 'touchpoint.void_window_closed');
    expect((await tpRow(late.id)).voidedAt).toBeNull();
    expect((await voidIt(lead, late.id)).statusCode).toBe(200);
  });

  it('the rule itself, at the edges', () => {
    const at = new Date('2026-06-01T00:00:00Z');
    const t0 = { loggedBy: 's1', createdAt: at };
    const later = (ms: number) => new Date(at.getTime() + ms);
    expect(voidRefusal({ role: 'intervener', staffId: 's1' }, t0, later(VOID_WINDOW_MS))).toBeNull();
    expect(voidRefusal({ role: 'intervener', staffId: 's1' }, t0, later(VOID_WINDOW_MS + 1))).toBe('window_closed');
    expect(voidRefusal({ role: 'intervener', staffId: 's2' }, t0, at)).toBe('not_logger');
    expect(voidRefusal({ role: 'lead', staffId: 'l1' }, t0, later(365 * DAY))).toBeNull();
    expect(voidRefusal({ role: 'analyst', staffId: 's1' }, t0, at)).toBe('role');
  });

  it('analysts and admins 403; another intervener 404; the holder who did not log it 403', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const bySam = await touch(sam, c.id, 'outbound', 10);
    const byLead = await touch(lead, c.id, 'inbound', 5);
    expectProblem(await voidIt(analyst, bySam.id), 403);
    expectProblem(await voidIt(admin, bySam.id), 403);
    expectProblem(await voidIt(kim, bySam.id), 404, 'touchpoint.not_found');
    expectProblem(await voidIt(sam, '0193a1e4-2f6d-7c18-9a3b-4e5f6a7b8c02'), 404, 'touchpoint.not_found');
    expectProblem(await voidIt(sam, byLead.id), 403, 'touchpoint.not_logger');
    for (const id of [bySam.id, byLead.id]) expect((await tpRow(id)).voidedAt).toBeNull();
  });

  it('refuses hostile input with 400 and changes nothing', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const tp = await touch(sam, c.id, 'inbound', 10);
    const [caseBefore, tpBefore] = [await caseRow(c.id), await tpRow(tp.id)];
    const url = `/v1/touchpoints/${tp.id}/void`;
    const bodies: unknown[] = [
      {},
      { reason: '' },
      { reason: '   ' },
      { reason: 'x'.repeat(501) },
      { reason: 'two\nlines' },
      { reason: 'bell\u0007' },
      { reason: 42 },
      { reason: 'wrong case', voidedBy: admin.id },
      { reason: 'wrong case', voidedAt: '2020-01-01T00:00:00Z' },
      { reason: 'wrong case', caseId: c.id },
    ];
    for (const body of bodies) {
      const problem = expectProblem(await call(t, sam, 'POST', url, body), 400, 'request.invalid');
      expect(JSON.stringify(problem['errors'] ?? problem['detail']), JSON.stringify(body)).toMatch(/reason|voidedBy|voidedAt|caseId/);
    }
    expectProblem(await call(t, sam, 'POST', '/v1/touchpoints/not-a-uuid/void', { reason: 'x' }), 400, 'request.invalid');
    expect(await tpRow(tp.id)).toEqual(tpBefore);
    expect(await caseRow(c.id)).toEqual(caseBefore);
    // The longest reason allowed is fine.
    expect((await voidIt(sam, tp.id, 'y'.repeat(500))).statusCode).toBe(200);
  });
});
