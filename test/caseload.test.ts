import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, followUps } from '../src/db/schema/index.js';
import { createTestApp, expectProblem, TestClock, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, ok } from './helpers/story.js';

interface Item {
  id: string;
  stage: string;
  riskLevel: string;
  lastTouchpointAt: string | null;
  nextFollowUpAt: string | null;
  awaitingReply: boolean;
  overdueFollowUps: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let t: TestApp;
let clock: TestClock;
let programId: string;
let lead: Who;
let sam: Who;
let ivy: Who;
let analyst: Who;
let admin: Who;

beforeAll(async () => {
  clock = new TestClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  t = await createTestApp({ clock });
  ({ programId, lead, analyst, admin, sam, ivy } = await cast(
    t,
    { lead: 'lead', analyst: 'analyst', admin: 'admin', sam: 'intervener', ivy: 'intervener' },
    { overdueGrace: 'PT1H', defaultMaxCaseload: 50 },
  ));
});
afterAll(() => t.close());

async function followUp(caseId: string, dueAt: Date) {
  return ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${caseId}/follow-ups`, { dueAt: dueAt.toISOString(), kind: 'follow_up' });
}

async function lastTouch(caseId: string, direction: 'inbound' | 'outbound', at: Date) {
  await t.db.db.update(cases).set({ lastTouchpointAt: at, lastTouchpointDirection: direction }).where(eq(cases.id, caseId));
}

describe('GET /v1/me/caseload', () => {
  it('lists the active cases with what needs doing, overdue first, then awaiting reply, then by next follow-up', async () => {
    const t0 = clock.now();
    const at = (ms: number) => new Date(t0.getTime() + ms);
    // Created in this order, so ids ascend A < … < G.
    const A = (
      await activeCase(t, lead, programId, sam.id, {
        riskLevel: 'high',
        profile: { platform: 'telegram', handle: '@Caseload_A', displayName: 'Person A' },
      })
    ).id;
    const B = (await activeCase(t, lead, programId, sam.id)).id;
    const B2 = (await activeCase(t, lead, programId, sam.id)).id;
    const C = (await activeCase(t, lead, programId, sam.id)).id;
    const D = (await activeCase(t, lead, programId, sam.id)).id;
    const E = (await activeCase(t, lead, programId, sam.id)).id;
    const F = (await activeCase(t, lead, programId, sam.id)).id;
    const G = (await activeCase(t, lead, programId, sam.id)).id;
    const closed = (await activeCase(t, lead, programId, sam.id)).id;
    const ivys = (await activeCase(t, lead, programId, ivy.id)).id;

    // C: one marked overdue by the worker, one past dueAt + grace but not yet marked.
    const cMarked = await followUp(C, at(10 * MINUTE));
    await t.db.db.update(followUps).set({ status: 'overdue' }).where(eq(followUps.id, cMarked.id));
    await followUp(C, at(90 * MINUTE));
    // E: exactly at dueAt + grace when we look, and awaiting a reply.
    await followUp(E, at(2 * HOUR));
    await lastTouch(E, 'inbound', at(-30 * MINUTE));
    // F: past dueAt, within grace.
    const fDue = await followUp(F, at(150 * MINUTE));
    await t.db.db.update(followUps).set({ status: 'due' }).where(eq(followUps.id, fDue.id));
    await lastTouch(F, 'outbound', at(-HOUR));
    // B: awaiting a reply, next follow-up later; B2 awaiting with nothing scheduled.
    await followUp(B, at(5 * HOUR));
    await lastTouch(B, 'inbound', at(-2 * HOUR));
    await lastTouch(B2, 'inbound', at(-3 * HOUR));
    await followUp(D, at(4 * HOUR));
    // G: only finished follow-ups, which count for nothing.
    const gDone = await followUp(G, at(20 * MINUTE));
    await ok(t, sam, 'POST', `/v1/follow-ups/${gDone.id}/complete`);
    const gCancelled = await followUp(G, at(30 * MINUTE));
    await ok(t, sam, 'POST', `/v1/follow-ups/${gCancelled.id}/cancel`);
    await followUp(closed, at(10 * MINUTE));
    await ok(t, lead, 'POST', `/v1/cases/${closed}/close`, { outcome: 'other' });
    await ok(t, lead, 'POST', `/v1/cases/${ivys}/follow-ups`, { dueAt: at(MINUTE).toISOString(), kind: 'review' });

    clock.advance(3 * HOUR);
    const { items } = await ok<{ items: Item[] }>(t, sam, 'GET', '/v1/me/caseload');
    expect(items.map((i) => i.id)).toEqual([E, C, B, B2, F, D, A, G]);
    const byId = Object.fromEntries(items.map((i) => [i.id, i]));
    expect(Object.keys(byId[A]!).sort()).toEqual([
      'awaitingReply',
      'displayName',
      'handle',
      'id',
      'lastTouchpointAt',
      'nextFollowUpAt',
      'overdueFollowUps',
      'platform',
      'riskLevel',
      'stage',
    ]);
    expect(byId[E]).toMatchObject({
      overdueFollowUps: 1,
      awaitingReply: true,
      nextFollowUpAt: at(2 * HOUR).toISOString(),
      lastTouchpointAt: at(-30 * MINUTE).toISOString(),
    });
    expect(byId[C]).toMatchObject({
      overdueFollowUps: 2,
      awaitingReply: false,
      nextFollowUpAt: at(10 * MINUTE).toISOString(),
      lastTouchpointAt: null,
    });
    expect(byId[B]).toMatchObject({ overdueFollowUps: 0, awaitingReply: true, nextFollowUpAt: at(5 * HOUR).toISOString() });
    expect(byId[B2]).toMatchObject({ overdueFollowUps: 0, awaitingReply: true, nextFollowUpAt: null });
    expect(byId[F]).toMatchObject({ overdueFollowUps: 0, awaitingReply: false, nextFollowUpAt: at(150 * MINUTE).toISOString() });
    expect(byId[D]).toMatchObject({ overdueFollowUps: 0, nextFollowUpAt: at(4 * HOUR).toISOString() });
    // Whom to write to, without opening the case.
    expect(byId[A]).toEqual({
      id: A,
      platform: 'telegram',
      handle: 'caseload_a',
      displayName: 'Person A',
      stage: 'none',
      riskLevel: 'high',
      lastTouchpointAt: null,
      nextFollowUpAt: null,
      awaitingReply: false,
      overdueFollowUps: 0,
    });
    expect(byId[B]).toMatchObject({ platform: 'x', handle: expect.stringMatching(/^p/) });
    expect(byId[G]).toMatchObject({ overdueFollowUps: 0, nextFollowUpAt: null });

    // A minute earlier E was still within its grace.
    clock.advance(-MINUTE);
    const earlier = await ok<{ items: Item[] }>(t, sam, 'GET', '/v1/me/caseload');
    expect(earlier.items.map((i) => i.id)).toEqual([C, E, B, B2, F, D, A, G]);
    clock.advance(MINUTE);

    expect((await ok<{ items: Item[] }>(t, ivy, 'GET', '/v1/me/caseload')).items.map((i) => i.id)).toEqual([ivys]);
  });

  it("uses the program's overdueGrace, the default when it has none", async () => {
    const { programId: p, l, i } = await cast(t, { l: 'lead', i: 'intervener' });
    const c = (await activeCase(t, l, p, i.id)).id;
    await ok(t, i, 'POST', `/v1/cases/${c}/follow-ups`, { dueAt: new Date(clock.now().getTime() + HOUR).toISOString(), kind: 'check_in' });
    clock.advance(3 * HOUR);
    expect((await ok<{ items: Item[] }>(t, i, 'GET', '/v1/me/caseload')).items[0]!.overdueFollowUps).toBe(0);
    clock.advance(22 * HOUR);
    expect((await ok<{ items: Item[] }>(t, i, 'GET', '/v1/me/caseload')).items[0]!.overdueFollowUps).toBe(1);
  });

  it('applies a change of overdueGrace to the very next caseload (the settings it keeps for 2 s are forgotten on the change)', async () => {
    const { programId: p, l, i, a } = await cast(t, { l: 'lead', i: 'intervener', a: 'admin' }, { overdueGrace: 'PT1H' });
    const c = (await activeCase(t, l, p, i.id)).id;
    await ok(t, i, 'POST', `/v1/cases/${c}/follow-ups`, { dueAt: new Date(clock.now().getTime() + HOUR).toISOString(), kind: 'check_in' });
    clock.advance(3 * HOUR);
    const overdue = async () => (await ok<{ items: Item[] }>(t, i, 'GET', '/v1/me/caseload')).items[0]!.overdueFollowUps;
    expect(await overdue()).toBe(1);
    expect(await overdue()).toBe(1); // now remembered
    const res = await call(t, a, 'PATCH', `/v1/programs/${p}`, { settings: { overdueGrace: 'PT12H' } }, { 'if-match': '*' });
    expect(res.statusCode).toBe(200);
    expect(await overdue()).toBe(0);
    const back = await call(t, a, 'PATCH', `/v1/programs/${p}`, { settings: { overdueGrace: 'PT2H' } }, { 'if-match': '*' });
    expect(back.statusCode).toBe(200);
    expect(await overdue()).toBe(1);
  });

  it('is empty for an intervener with no active case, and follows reassignment', async () => {
    const i = await t.staff('intervener', programId);
    expect(await ok(t, i, 'GET', '/v1/me/caseload')).toEqual({ items: [] });
    const c = (await activeCase(t, lead, programId, i.id)).id;
    expect((await ok<{ items: Item[] }>(t, i, 'GET', '/v1/me/caseload')).items.map((x) => x.id)).toEqual([c]);
    await ok(t, lead, 'POST', `/v1/cases/${c}/assignment`, { intervenerId: ivy.id });
    expect(await ok(t, i, 'GET', '/v1/me/caseload')).toEqual({ items: [] });
  });

  it('is for interveners only, audited with one entry naming every case it showed', async () => {
    for (const who of [lead, analyst, admin]) expectProblem(await call(t, who, 'GET', '/v1/me/caseload'), 403, 'auth.forbidden');
    expectProblem(await call(t, sam, 'GET', '/v1/me/caseload?limit=5'), 400, 'request.invalid');
    const count = () => auditCount(t, 'caseload.read', sam.id);
    const before = await count();
    const { items } = await ok<{ items: unknown[] }>(t, sam, 'GET', '/v1/me/caseload');
    expect(items.length).toBeGreaterThan(0);
    expect(await count()).toBe(before + 1);
    const [entry] = (
      await t.db.pool.query<{ case_ids: string[] }>(
        "select case_ids from audit_log where action = 'caseload.read' and actor_id = $1 order by seq desc limit 1",
        [sam.id],
      )
    ).rows;
    expect([...entry!.case_ids].sort()).toEqual((items as { id: string }[]).map((i) => i.id).sort());
  });
});
