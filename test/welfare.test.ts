import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debriefs, notifications } from '../src/db/schema/index.js';
import { isoWeekStart, parsePeriod, periodAt } from '../src/domain/welfare/period.js';
import { createTestApp, expectProblem, type TestApp } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, call, flagBody, ok } from './helpers/story.js';

// API.md, "Intervener welfare": exposure and its cap, topic opt-outs, debriefs, supervision, and who sees any of it.
type Welfare = {
  weekStart: string;
  exposureMinutes: number;
  capMinutes: number;
  overCap: boolean;
  debriefsPending: number;
  supervisionDueAt: string;
  lastSupervisionAt: string | null;
};
type Candidate = { intervenerId: string; exposureMinutes: number; overExposure: boolean; reasons: string[] };
type Debrief = { id: string; staffId: string; caseId: string | null; reason: string; status: string; dueAt: string };
type Page<T> = { items: T[]; nextCursor: string | null };

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const twoHoursAgo = () => minutesAgo(120);

/** A case ready for its first assignment. */
async function approved(t: TestApp, lead: Who, programId: string, extra: Record<string, unknown> = {}) {
  const c = await ok<{ id: string }>(t, lead, 'POST', '/v1/cases', flagBody(programId, { flaggedAt: twoHoursAgo(), ...extra }));
  await ok(t, lead, 'POST', `/v1/cases/${c.id}/triage`, { decision: 'accept', reason: 'meets criteria' });
  await ok(t, lead, 'POST', `/v1/cases/${c.id}/approve`, {});
  return c.id;
}

const outbound = (extra: Record<string, unknown> = {}) => ({
  direction: 'outbound',
  channel: 'direct_message',
  occurredAt: minutesAgo(30),
  approaches: ['empathetic'],
  ...extra,
});

describe('periods (pure)', () => {
  it('counts calendar months from January 2000 and fixed spans from Monday 2000-01-03', () => {
    const at = new Date('2026-12-02T05:00:00Z');
    expect(periodAt(parsePeriod('P1M')!, at)).toEqual({ start: new Date('2026-12-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') });
    // Quarters: 2026-10 to 2027-01.
    expect(periodAt(parsePeriod('P3M')!, at)).toEqual({ start: new Date('2026-10-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') });
    // P1W is the ISO week (Monday 2026-11-30).
    expect(periodAt(parsePeriod('P1W')!, at).start).toEqual(new Date('2026-11-30T00:00:00Z'));
    expect(isoWeekStart(at)).toEqual(new Date('2026-11-30T00:00:00Z'));
    expect(isoWeekStart(new Date('2026-11-29T23:59:59Z'))).toEqual(new Date('2026-11-23T00:00:00Z'));
    expect(parsePeriod('P0M')).toBeUndefined();
    expect(parsePeriod('P1Y')).toBeUndefined();
  });
});

describe('exposure and topic opt-outs', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let sam: Who;
  let lee: Who;

  beforeAll(async () => {
    t = await createTestApp();
    // A 1-hour cap makes the arithmetic readable.
    ({ programId, lead, sam, lee } = await cast(
      t,
      { lead: 'lead', sam: { role: 'intervener', maxCaseload: 50 }, lee: { role: 'intervener', maxCaseload: 50 } },
      { weeklyExposureCap: 'PT1H' },
    ));
  });
  afterAll(() => t.close());

  it('sums touchpoint minutes and logged time in the ISO week, flags candidates, refuses assignment, and records the override', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: twoHoursAgo() });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, outbound({ minutesSpent: 20 }));
    // A voided touchpoint's minutes count nowhere; so does last week's time.
    const wrong = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, outbound({ minutesSpent: 300 }));
    await ok(t, sam, 'POST', `/v1/touchpoints/${wrong.id}/void`, { reason: 'wrong case' });
    const lastWeek = new Date(isoWeekStart(new Date()).getTime() - 60_000).toISOString();
    await ok(t, sam, 'POST', '/v1/me/time', { at: lastWeek, minutes: 500, activity: 'reading' });
    await ok(
      t,
      sam,
      'POST',
      '/v1/me/time',
      { at: new Date().toISOString(), minutes: 39, activity: 'research' },
      { 'idempotency-key': 'sam-t1' },
    );
    // A retried request logs once.
    await ok(
      t,
      sam,
      'POST',
      '/v1/me/time',
      { at: new Date().toISOString(), minutes: 39, activity: 'research' },
      { 'idempotency-key': 'sam-t1' },
    ).catch(() => undefined);
    let me = await ok<Welfare>(t, sam, 'GET', '/v1/me/welfare');
    // 20 + 39 = 59 of 60: under the cap.
    expect(me).toMatchObject({ exposureMinutes: 59, capMinutes: 60, overCap: false, weekStart: isoWeekStart(new Date()).toISOString() });
    const next = await approved(t, lead, programId);
    let cand = (await ok<{ items: Candidate[] }>(t, lead, 'GET', `/v1/cases/${next}/candidates`)).items.find(
      (x) => x.intervenerId === sam.id,
    )!;
    expect(cand).toMatchObject({ exposureMinutes: 59, overExposure: false });

    await ok(t, sam, 'POST', '/v1/me/time', { at: new Date().toISOString(), minutes: 1, activity: 'messaging' });
    me = await ok<Welfare>(t, sam, 'GET', '/v1/me/welfare');
    expect(me).toMatchObject({ exposureMinutes: 60, overCap: true });
    const items = (await ok<{ items: Candidate[] }>(t, lead, 'GET', `/v1/cases/${next}/candidates`)).items;
    cand = items.find((x) => x.intervenerId === sam.id)!;
    expect(cand.overExposure).toBe(true);
    expect(cand.reasons.join(' ')).toMatch(/exposure cap \(60 of 60 minutes\)/);
    // Over the cap sinks below someone who is not.
    expect(items[0]!.intervenerId).toBe(lee.id);

    const refused = await call(t, lead, 'POST', `/v1/cases/${next}/assignment`, { intervenerId: sam.id });
    expectProblem(refused, 409, 'staff.over_exposure');
    expect(refused.json()).toMatchObject({ exposureMinutes: 60, capMinutes: 60 });
    expectProblem(
      await call(t, lead, 'POST', `/v1/cases/${next}/assignment`, { intervenerId: sam.id, override: true }),
      400,
      'assignment.reason_required',
    );
    await ok(t, lead, 'POST', `/v1/cases/${next}/assignment`, {
      intervenerId: sam.id,
      override: true,
      reason: 'Sam asked to keep this one',
    });
    const events = await ok<{ items: { kind: string; reason: string | null; data: Record<string, unknown> | null }[] }>(
      t,
      lead,
      'GET',
      `/v1/cases/${next}/events`,
    );
    expect(events.items.find((e) => e.kind === 'assign')).toMatchObject({
      reason: 'Sam asked to keep this one',
      data: { override: true, overridden: ['exposure'] },
    });
  });

  it('leaves an opted-out topic out of candidates and refuses it without an override, in assignment and handover', async () => {
    expect(await ok(t, lee, 'PUT', '/v1/me/avoid', { avoid: ['islamist', 'islamist'] })).toEqual({ avoid: ['islamist'] });
    expectProblem(await call(t, lee, 'PUT', '/v1/me/avoid', { avoid: ['everything'] }), 400);
    const islamist = await approved(t, lead, programId, { ideology: 'islamist' });
    const ids = (await ok<{ items: Candidate[] }>(t, lead, 'GET', `/v1/cases/${islamist}/candidates`)).items.map((x) => x.intervenerId);
    expect(ids).not.toContain(lee.id);
    const refused = await call(t, lead, 'POST', `/v1/cases/${islamist}/assignment`, { intervenerId: lee.id });
    expectProblem(refused, 409, 'staff.avoids_topic');
    expect(refused.json()).toMatchObject({ ideology: 'islamist' });
    // A far-right case is fine for Lee.
    const farRight = await approved(t, lead, programId, { ideology: 'far_right' });
    await ok(t, lead, 'POST', `/v1/cases/${farRight}/assignment`, { intervenerId: lee.id });
    // Handing over Sam's islamist case to Lee skips it with the refusal's code; the override path records it.
    const held = await ok<{ id: string }>(t, lead, 'POST', `/v1/cases/${islamist}/assignment`, {
      intervenerId: sam.id,
      override: true,
      reason: 'over exposure, agreed',
    });
    const handover = await ok<{ moved: unknown[]; skipped: { caseId: string; code: string }[] }>(
      t,
      lead,
      'POST',
      `/v1/staff/${sam.id}/handover`,
      {
        toIntervenerId: lee.id,
        reason: 'Sam on leave',
      },
    );
    expect(handover.skipped).toContainEqual({ caseId: held.id, code: 'staff.avoids_topic' });
    await ok(t, lead, 'POST', `/v1/cases/${islamist}/assignment`, {
      intervenerId: lee.id,
      override: true,
      reason: 'Lee agreed for this one',
    });
    const events = await ok<{ items: { kind: string; data: Record<string, unknown> | null }[] }>(
      t,
      lead,
      'GET',
      `/v1/cases/${islamist}/events`,
    );
    expect(events.items.filter((e) => e.kind === 'assign').at(-1)!.data).toMatchObject({ overridden: ['topic'] });
    // It is welfare data: the program's leads see it on the staff list, an admin never (nor may set it: it is the person's choice).
    const asLead = await ok<{ items: { id: string; avoid?: string[] }[] }>(t, lead, 'GET', `/v1/staff?programId=${programId}`);
    expect(asLead.items.find((s) => s.id === lee.id)?.avoid).toEqual(['islamist']);
    const admin = await t.staff('admin', null);
    expect(await ok(t, admin, 'GET', `/v1/staff/${lee.id}`)).not.toHaveProperty('avoid');
    expectProblem(await call(t, admin, 'PATCH', `/v1/staff/${lee.id}`, { avoid: [] }), 400);
  });

  it('decides the cap under the staff row lock: assignments racing time that reaches the cap never pass on the stale sum', async () => {
    const p = await cast(t, { lead: 'lead', kim: { role: 'intervener', maxCaseload: 100 } }, { weeklyExposureCap: 'PT1H' });
    await ok(t, p.kim, 'POST', '/v1/me/time', { at: new Date().toISOString(), minutes: 59, activity: 'reading' });
    const cases = await Promise.all(Array.from({ length: 20 }, () => approved(t, p.lead, p.programId)));
    // A time log reaching the cap is in flight: it holds Kim's row (as POST /v1/me/time does) and has not committed.
    const client = await t.db.pool.connect();
    try {
      await client.query('begin');
      await client.query('select id from staff where id = $1 for share', [p.kim.id]);
      await client.query(
        `insert into time_logs (id, program_id, staff_id, at, minutes, activity) values (gen_random_uuid(), $1, $2, now(), 1, 'reading')`,
        [p.programId, p.kim.id],
      );
      const racing = cases.map((id) => call(t, p.lead, 'POST', `/v1/cases/${id}/assignment`, { intervenerId: p.kim.id }));
      // Without the lock each would read 59 minutes now and pass; with it, each waits for the commit.
      await new Promise((r) => setTimeout(r, 400));
      await client.query('commit');
      const results = await Promise.all(racing);
      expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(409));
      for (const r of results) expect(r.json().code).toBe('staff.over_exposure');
    } finally {
      client.release();
    }
    expect((await ok<Welfare>(t, p.kim, 'GET', '/v1/me/welfare')).exposureMinutes).toBe(60);
  });
});

describe('debriefs', () => {
  let t: TestApp;
  let programId: string;
  let lead: Who;
  let lead2: Who;
  let sam: Who;
  let other: Who;
  let analyst: Who;
  let evaluator: Who;

  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, lead2, sam, other, analyst, evaluator } = await cast(
      t,
      {
        lead: 'lead',
        lead2: 'lead',
        sam: { role: 'intervener', maxCaseload: 50 },
        other: 'intervener',
        analyst: 'analyst',
        evaluator: 'evaluator',
      },
      { debriefWithin: 'PT24H' },
    ));
  });
  afterAll(() => t.close());

  const owed = async (staffId: string) => t.db.db.select().from(debriefs).where(eq(debriefs.staffId, staffId));

  it('is owed once per triggering event: a distressing or hostile touchpoint, an intervener’s concern, an unsafe closure', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: twoHoursAgo() });
    const before = Date.now();
    const body = outbound({ distressing: true, sentiment: 'hostile', minutesSpent: 15 });
    const tp = await ok<{ id: string; distressing: boolean; minutesSpent: number }>(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, body, {
      'idempotency-key': 'tp-distress',
    });
    expect(tp).toMatchObject({ distressing: true, minutesSpent: 15 });
    // The retry replays: still one debrief (distressing and hostile at once is one event).
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, body, { 'idempotency-key': 'tp-distress' });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: minutesAgo(20),
      sentiment: 'hostile',
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'inbound',
      channel: 'direct_message',
      occurredAt: minutesAgo(19),
      sentiment: 'negative',
    });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'high', concern: 'Talked about a march' });
    // A lead's own concern owes no debrief (debriefs are for interveners).
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/safeguarding`, { severity: 'high', concern: 'Lead saw it too' });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'unsafe_to_continue', note: 'threats' });
    let rows = await owed(sam.id);
    expect(rows.map((r) => r.reason).sort()).toEqual([
      'distressing_touchpoint',
      'hostile_touchpoint',
      'safeguarding_concern',
      'unsafe_closure',
    ]);
    for (const r of rows) {
      expect(r.status).toBe('pending');
      // Due debriefWithin (24 h) after it was owed.
      expect(r.dueAt.getTime() - r.createdAt.getTime()).toBe(86_400_000);
      expect(r.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
    // Reopened and closed unsafe again is a new event: one more.
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/reopen`, { reason: 'wrote again' });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'unsafe_to_continue' });
    rows = await owed(sam.id);
    expect(rows.filter((r) => r.reason === 'unsafe_closure')).toHaveLength(2);
    // Each told Sam (personally) and both leads, once.
    const due = await t.db.db
      .select({ staffId: notifications.staffId, n: sql<number>`count(*)::int` })
      .from(notifications)
      .where(and(eq(notifications.kind, 'debrief_due'), eq(notifications.programId, programId)))
      .groupBy(notifications.staffId);
    const byStaff = Object.fromEntries(due.map((d) => [d.staffId, d.n]));
    expect(byStaff).toEqual({ [sam.id]: 5, [lead.id]: 5, [lead2.id]: 5 });
  });

  it('is listed to the person and the leads only, and done once by a lead', async () => {
    const mine = await ok<Page<Debrief>>(t, sam, 'GET', '/v1/debriefs?status=pending');
    expect(mine.items.length).toBe(5);
    expect(mine.items.every((d) => d.staffId === sam.id)).toBe(true);
    // Sorted by due time, earliest first.
    expect([...mine.items].sort((a, b) => a.dueAt.localeCompare(b.dueAt))).toEqual(mine.items);
    expect((await ok<Page<Debrief>>(t, other, 'GET', '/v1/debriefs')).items).toEqual([]);
    expect((await ok<Page<Debrief>>(t, other, 'GET', `/v1/debriefs?staffId=${sam.id}`)).items).toEqual([]);
    expect((await ok<Page<Debrief>>(t, lead, 'GET', `/v1/debriefs?staffId=${sam.id}&limit=2`)).items).toHaveLength(2);
    for (const who of [analyst, evaluator]) expectProblem(await call(t, who, 'GET', '/v1/debriefs'), 404, 'debrief.not_found');
    const id = mine.items[0]!.id;
    expectProblem(await call(t, sam, 'POST', `/v1/debriefs/${id}/complete`, {}), 403);
    const other2 = await cast(t, { lead: 'lead' });
    expectProblem(await call(t, other2.lead, 'POST', `/v1/debriefs/${id}/complete`, {}), 404, 'debrief.not_found');
    const done = await ok<Debrief & { doneBy: string; note: string }>(t, lead, 'POST', `/v1/debriefs/${id}/complete`, {
      note: 'Talked it through',
    });
    expect(done).toMatchObject({ status: 'done', doneBy: lead.id, note: 'Talked it through' });
    expectProblem(await call(t, lead, 'POST', `/v1/debriefs/${id}/complete`), 409, 'debrief.already_done');
    expect((await ok<Welfare>(t, sam, 'GET', '/v1/me/welfare')).debriefsPending).toBe(4);
  });

  it('shows a touchpoint’s welfare fields to its logger and the leads only', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: twoHoursAgo() });
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, outbound({ minutesSpent: 12, distressing: true }));
    // Lee takes the case over: he sees the message, not Sam's minutes or distress.
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/assignment`, { intervenerId: other.id });
    const seen = await ok<Page<{ minutesSpent: number | null; distressing: boolean | null }>>(
      t,
      other,
      'GET',
      `/v1/cases/${c.id}/touchpoints`,
    );
    expect(seen.items[0]).toMatchObject({ minutesSpent: null, distressing: null });
    const byLead = await ok<Page<{ minutesSpent: number | null; distressing: boolean | null }>>(
      t,
      lead,
      'GET',
      `/v1/cases/${c.id}/touchpoints`,
    );
    expect(byLead.items[0]).toMatchObject({ minutesSpent: 12, distressing: true });
    // Bad welfare fields are refused whole.
    for (const bad of [{ minutesSpent: 601 }, { minutesSpent: -1 }, { minutesSpent: 1.5 }, { distressing: 'yes' }]) {
      expectProblem(await call(t, other, 'POST', `/v1/cases/${c.id}/touchpoints`, outbound(bad)), 400);
    }
  });
});

describe('supervision and welfare scope', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('records sessions (lead), shows them to the person and the leads, and says when the next is due', async () => {
    const p = await cast(
      t,
      { lead: 'lead', sam: 'intervener', kim: 'intervener', analyst: 'analyst', evaluator: 'evaluator' },
      {
        supervisionEvery: 'P1M',
        supervisionMinMinutes: 90,
      },
    );
    const url = `/v1/staff/${p.sam.id}/supervision-sessions`;
    const period = periodAt(parsePeriod('P1M')!, new Date());
    let me = await ok<Welfare>(t, p.sam, 'GET', '/v1/me/welfare');
    expect(me).toMatchObject({ lastSupervisionAt: null, supervisionDueAt: period.end.toISOString() });
    const at = minutesAgo(60);
    await ok(t, p.lead, 'POST', url, { at, minutes: 60, format: 'individual' }, { 'idempotency-key': 'sup-1' });
    me = await ok<Welfare>(t, p.sam, 'GET', '/v1/me/welfare');
    // 60 of 90: still due by the end of this month.
    expect(me).toMatchObject({ lastSupervisionAt: new Date(at).toISOString(), supervisionDueAt: period.end.toISOString() });
    await ok(t, p.lead, 'POST', url, { at: minutesAgo(30), minutes: 30, format: 'peer' });
    me = await ok<Welfare>(t, p.sam, 'GET', '/v1/me/welfare');
    // 90 of 90: the next is due by the end of next month.
    expect(me.supervisionDueAt).toBe(periodAt(parsePeriod('P1M')!, period.end).end.toISOString());
    expect((await ok<Page<{ minutes: number }>>(t, p.sam, 'GET', url)).items.map((s) => s.minutes)).toEqual([30, 60]);
    expect((await ok<Page<{ minutes: number }>>(t, p.lead, 'GET', url)).items).toHaveLength(2);
    for (const who of [p.kim, p.analyst, p.evaluator]) expectProblem(await call(t, who, 'GET', url), 404, 'staff.not_found');
    const other = await cast(t, { lead: 'lead' });
    expectProblem(await call(t, other.lead, 'GET', url), 404, 'staff.not_found');
    expectProblem(await call(t, other.lead, 'POST', url, { at, minutes: 10, format: 'group' }), 404, 'staff.not_found');
    for (const bad of [
      { at, minutes: 0, format: 'group' },
      { at, minutes: 10, format: 'pub' },
      { at: new Date(Date.now() + 3_600_000).toISOString(), minutes: 10, format: 'group' },
      { at, minutes: 10, format: 'group', staffId: p.kim.id },
    ]) {
      expectProblem(await call(t, p.lead, 'POST', url, bad), 400);
    }
    // Only an intervener's own figures: other roles have no welfare of their own here.
    for (const who of [p.lead, p.analyst, p.evaluator]) expectProblem(await call(t, who, 'GET', '/v1/me/welfare'), 403);
    for (const who of [p.lead, p.analyst, p.evaluator]) {
      expectProblem(await call(t, who, 'POST', '/v1/me/time', { at, minutes: 5, activity: 'reading' }), 403);
    }
    for (const bad of [
      { at, minutes: 0, activity: 'reading' },
      { at, minutes: 601, activity: 'reading' },
      { at, minutes: 5, activity: 'gaming' },
      { at: new Date(Date.now() + 3_600_000).toISOString(), minutes: 5, activity: 'reading' },
      { at, minutes: 5, activity: 'reading', staffId: p.kim.id },
    ]) {
      expectProblem(await call(t, p.sam, 'POST', '/v1/me/time', bad), 400);
    }
  });
});
