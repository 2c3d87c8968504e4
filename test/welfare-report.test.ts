/**
 * GET /v1/reports/welfare: every figure below is worked out by hand from the data this file creates
 * through the API (touchpoints with minutesSpent, logged time, supervision sessions, debriefs owed
 * by distressing and hostile touchpoints and completed by the lead), on a clock the test moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, TestClock } from './helpers/app.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, auditCount, call, ok } from './helpers/story.js';

interface Week {
  weekStart: string;
  minutes: number;
  hours: number;
  overCap: boolean;
}
interface Period {
  start: string;
  end: string;
  minutes: number;
  ended: boolean;
  short: boolean;
}
interface Tally {
  owed: number;
  done: number;
  onTime: number;
  pending: number;
  overdue: number;
}
interface IntervenerRow {
  id: string;
  name: string;
  active: boolean;
  exposure: { weeks: Week[]; totalMinutes: number; totalHours: number; overCapWeeks: number };
  debriefs: Tally;
  supervision: { periods: Period[]; shortPeriods: number };
}
interface WelfareReport {
  programId: string;
  from: string;
  to: string;
  capMinutes: number;
  capHours: number;
  supervisionEvery: string;
  supervisionMinMinutes: number;
  interveners: IntervenerRow[];
  team: {
    interveners: number;
    exposure: {
      weeks: { weekStart: string; minutes: number; hours: number; overCapInterveners: number }[];
      totalMinutes: number;
      totalHours: number;
      overCapWeeks: number;
    };
    debriefs: Tally;
    supervision: {
      periods: { start: string; end: string; minutes: number; ended: boolean; shortInterveners: number }[];
      shortPeriods: number;
    };
  };
  asOf: string;
  definition: Record<string, string | number>;
}

const at = (iso: string) => new Date(iso);
const WINDOW = { from: '2026-02-20', to: '2026-03-20' };
// The UTC ISO weeks overlapping [2026-02-20, 2026-03-20): 2026-02-16 is a Monday (2026-01-01 is a Thursday, and
// 16 February is day 47, 46 days = 6 weeks + 4 days after it), and the window's last day, Thursday 19 March, is in the week of the 16th.
const WEEKS = ['2026-02-16', '2026-02-23', '2026-03-02', '2026-03-09', '2026-03-16'].map((d) => `${d}T00:00:00.000Z`);
// P1M: the UTC calendar months overlapping the window.
const FEB = { start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' };
const MAR = { start: '2026-03-01T00:00:00.000Z', end: '2026-04-01T00:00:00.000Z' };
const NOW = '2026-03-19T12:00:00.000Z';

describe('GET /v1/reports/welfare', () => {
  let t: TestApp;
  const clock = new TestClock(at('2026-01-31T12:00:00Z'));
  let w: {
    programId: string;
    lead: Who;
    ana: Who;
    ben: Who;
    cal: Who;
    dan: Who;
    eve: Who;
    ev: Who;
    an: Who;
    admin: Who;
  };
  let other: { programId: string; lead: Who };
  let report: WelfareReport;

  const url = (q: Record<string, string>) => `/v1/reports/welfare?${new URLSearchParams(q)}`;
  const get = (who: Who, q: Record<string, string> = { programId: w.programId, ...WINDOW }) =>
    t.app.inject({ method: 'GET', url: url(q), headers: who.auth });
  const setClock = (iso: string) => {
    clock.current = at(iso);
  };
  const logTime = (who: Who, when: string, minutes: number) =>
    ok(t, who, 'POST', '/v1/me/time', { at: when, minutes, activity: 'reading' });
  const supervise = (staff: Who, when: string, minutes: number) =>
    ok(t, w.lead, 'POST', `/v1/staff/${staff.id}/supervision-sessions`, { at: when, minutes, format: 'individual' });
  const touch = (who: Who, caseId: string, body: Record<string, unknown>) =>
    ok<{ id: string }>(t, who, 'POST', `/v1/cases/${caseId}/touchpoints`, { channel: 'direct_message', ...body });
  /** The debrief just owed to `who` (the newest pending one of theirs). */
  async function newestPending(who: Who) {
    const page = await ok<{ items: { id: string; staffId: string; createdAt: string; dueAt: string }[] }>(
      t,
      w.lead,
      'GET',
      `/v1/debriefs?status=pending&staffId=${who.id}`,
    );
    return page.items.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]!;
  }
  const complete = (id: string) => ok<{ doneAt: string }>(t, w.lead, 'POST', `/v1/debriefs/${id}/complete`, { note: 'Talked it through.' });

  beforeAll(async () => {
    t = await createTestApp({ clock });
    w = await cast(
      t,
      {
        lead: 'lead',
        ana: { role: 'intervener', maxCaseload: 10 },
        ben: { role: 'intervener', maxCaseload: 10 },
        cal: 'intervener',
        dan: 'intervener',
        eve: 'intervener',
        ev: 'evaluator',
        an: 'analyst',
        admin: 'admin',
      },
      { weeklyExposureCap: 'PT2H', supervisionEvery: 'P1M', supervisionMinMinutes: 90, debriefWithin: 'PT48H' },
    );
    other = await cast(t, { lead: 'lead' });

    // 31 January: a case each for Ana and Ben; a January session (outside both months of the window).
    const a = await activeCase(t, w.lead, w.programId, w.ana.id);
    const b = await activeCase(t, w.lead, w.programId, w.ben.id);
    await supervise(w.ana, '2026-01-31T10:00:00Z', 200);

    setClock('2026-02-10T12:00:00Z');
    await supervise(w.ana, '2026-02-10T10:00:00Z', 60); // February: before `from`, but the month overlaps the window
    await logTime(w.eve, '2026-02-10T10:00:00Z', 30); // week of 9 February: outside the window

    // 13 February (week of the 9th, outside): 300 minutes and a debrief owed and done before the window.
    setClock('2026-02-13T12:00:00Z');
    await touch(w.ana, a.id, { direction: 'outbound', occurredAt: '2026-02-13T10:00:00Z', minutesSpent: 300, distressing: true });
    await complete((await newestPending(w.ana)).id);

    // Week of 16 February (before `from`, counted whole): Ana 50 + 80 = 130 ≥ 120, over the cap.
    setClock('2026-02-18T12:00:00Z');
    await touch(w.ana, a.id, { direction: 'outbound', occurredAt: '2026-02-17T10:00:00Z', minutesSpent: 50 });
    await logTime(w.ana, '2026-02-18T10:00:00Z', 80);

    // Week of 23 February: Ana 30 + 45 = 75; D1 owed at 24 Feb 12:00, due 26 Feb 12:00, done exactly then (on time: ≤).
    setClock('2026-02-24T12:00:00Z');
    await touch(w.ana, a.id, { direction: 'outbound', occurredAt: '2026-02-24T10:00:00Z', minutesSpent: 30, distressing: true });
    const d1 = await newestPending(w.ana);
    expect(d1.dueAt).toBe('2026-02-26T12:00:00.000Z');
    setClock('2026-02-25T12:00:00Z');
    await logTime(w.ana, '2026-02-25T10:00:00Z', 45);
    setClock('2026-02-26T12:00:00Z');
    expect((await complete(d1.id)).doneAt).toBe('2026-02-26T12:00:00.000Z');

    // Ben: 200 minutes in the week of 23 February, and 90 minutes of supervision in February (exactly the minimum: not short).
    setClock('2026-02-27T12:00:00Z');
    await logTime(w.ben, '2026-02-27T10:00:00Z', 200);
    await supervise(w.ben, '2026-02-27T10:00:00Z', 90);

    // Either side of Monday 2 March 00:00 UTC: 1 minute on Sunday (week of 23 Feb: Ben 201), 5 on Monday (week of 2 March).
    setClock('2026-03-02T12:00:00Z');
    await logTime(w.ben, '2026-03-01T23:59:00Z', 1);
    await logTime(w.ben, '2026-03-02T00:00:00Z', 5);
    await logTime(w.cal, '2026-03-02T10:00:00Z', 40);
    // Cal leaves with 40 minutes in the window (still reported); Eve leaves with nothing in it (left out).
    for (const gone of [w.cal, w.eve]) await ok(t, w.admin, 'PATCH', `/v1/staff/${gone.id}`, { active: false });

    // Week of 2 March: Ana 120 = the cap (at it counts as over, as in /v1/me/welfare); 90 minutes of supervision in March.
    setClock('2026-03-03T12:00:00Z');
    await logTime(w.ana, '2026-03-03T10:00:00Z', 120);
    await supervise(w.ana, '2026-03-03T10:00:00Z', 90);

    // D2: Ben's hostile reply, owed 5 March 12:00, due 7 March 12:00, done late on 9 March.
    setClock('2026-03-05T12:00:00Z');
    await touch(w.ben, b.id, { direction: 'inbound', occurredAt: '2026-03-05T11:00:00Z', sentiment: 'hostile' });
    const d2 = await newestPending(w.ben);
    setClock('2026-03-09T10:00:00Z');
    await complete(d2.id);

    // Week of 9 March: a 60-minute touchpoint voided (counts nowhere), then 10 minutes logged.
    setClock('2026-03-10T12:00:00Z');
    const voided = await touch(w.ana, a.id, { direction: 'outbound', occurredAt: '2026-03-10T10:00:00Z', minutesSpent: 60 });
    await ok(t, w.ana, 'POST', `/v1/touchpoints/${voided.id}/void`, { reason: 'Logged on the wrong case' });
    setClock('2026-03-11T12:00:00Z');
    await logTime(w.ana, '2026-03-11T10:00:00Z', 10);
    setClock('2026-03-12T12:00:00Z');
    await supervise(w.ana, '2026-03-12T10:00:00Z', 30);

    // Week of 16 March: D3 (Ana, 20 minutes, due 18 March 09:00: overdue by now); D4 (Ben, 15 minutes, due 19 March 14:00: not yet).
    setClock('2026-03-16T09:00:00Z');
    await touch(w.ana, a.id, { direction: 'inbound', occurredAt: '2026-03-16T08:00:00Z', minutesSpent: 20, sentiment: 'hostile' });
    setClock('2026-03-17T14:00:00Z');
    await touch(w.ben, b.id, { direction: 'inbound', occurredAt: '2026-03-17T13:00:00Z', minutesSpent: 15, sentiment: 'hostile' });

    setClock(NOW);
    const res = await get(w.lead);
    expect(res.statusCode, res.body).toBe(200);
    report = res.json() as WelfareReport;
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const row = (who: Who) => report.interveners.find((r) => r.id === who.id)!;
  const weeks = (minutes: number[], cap = 120) =>
    minutes.map((m, i) => ({ weekStart: WEEKS[i], minutes: m, hours: Math.round((m / 60) * 100) / 100, overCap: m >= cap }));

  it('lists the active interveners and those who left with something in the window, by name', () => {
    const ids = report.interveners.map((r) => r.id);
    expect(new Set(ids)).toEqual(new Set([w.ana.id, w.ben.id, w.cal.id, w.dan.id]));
    expect(report.interveners.map((r) => r.name)).toEqual(report.interveners.map((r) => r.name).sort((x, y) => x.localeCompare(y, 'en')));
    expect(row(w.cal).active).toBe(false);
    expect(row(w.dan).active).toBe(true);
    expect(report).toMatchObject({
      programId: w.programId,
      ...WINDOW,
      capMinutes: 120,
      capHours: 2,
      supervisionEvery: 'P1M',
      supervisionMinMinutes: 90,
      asOf: NOW,
    });
  });

  it('sums exposure per UTC ISO week, zero-filled, against the cap', () => {
    // Ana: 16 Feb 50+80; 23 Feb 30+45; 2 Mar 120; 9 Mar 10 (the voided 60 counts nowhere); 16 Mar 20.
    expect(row(w.ana).exposure).toEqual({ weeks: weeks([130, 75, 120, 10, 20]), totalMinutes: 355, totalHours: 5.92, overCapWeeks: 2 });
    expect(row(w.ana).exposure.weeks.map((x) => x.hours)).toEqual([2.17, 1.25, 2, 0.17, 0.33]);
    // Ben: 23 Feb 200+1 (Sunday 23:59); 2 Mar 5 (Monday 00:00); 16 Mar 15.
    expect(row(w.ben).exposure).toEqual({ weeks: weeks([0, 201, 5, 0, 15]), totalMinutes: 221, totalHours: 3.68, overCapWeeks: 1 });
    expect(row(w.cal).exposure).toEqual({ weeks: weeks([0, 0, 40, 0, 0]), totalMinutes: 40, totalHours: 0.67, overCapWeeks: 0 });
    expect(row(w.dan).exposure).toEqual({ weeks: weeks([0, 0, 0, 0, 0]), totalMinutes: 0, totalHours: 0, overCapWeeks: 0 });
    expect(report.team.exposure).toEqual({
      weeks: [
        { weekStart: WEEKS[0], minutes: 130, hours: 2.17, overCapInterveners: 1 },
        { weekStart: WEEKS[1], minutes: 276, hours: 4.6, overCapInterveners: 1 },
        { weekStart: WEEKS[2], minutes: 165, hours: 2.75, overCapInterveners: 1 },
        { weekStart: WEEKS[3], minutes: 10, hours: 0.17, overCapInterveners: 0 },
        { weekStart: WEEKS[4], minutes: 35, hours: 0.58, overCapInterveners: 0 },
      ],
      totalMinutes: 616,
      totalHours: 10.27,
      overCapWeeks: 3,
    });
  });

  it("reads this week's exposure from the same sum as GET /v1/me/welfare", async () => {
    for (const who of [w.ana, w.ben]) {
      const mine = await ok<{ weekStart: string; exposureMinutes: number; capMinutes: number }>(t, who, 'GET', '/v1/me/welfare');
      expect(mine.weekStart).toBe(WEEKS[4]);
      expect(mine.capMinutes).toBe(report.capMinutes);
      expect(row(who).exposure.weeks.at(-1)!.minutes).toBe(mine.exposureMinutes);
    }
  });

  it('counts debriefs owed in the window: done, on time, pending and overdue now', () => {
    // Ana: D1 done at its due time (on time), D3 pending past due. The 13 February one was owed before the window.
    expect(row(w.ana).debriefs).toEqual({ owed: 2, done: 1, onTime: 1, pending: 1, overdue: 1 });
    // Ben: D2 done two days late, D4 pending and due at 14:00 today.
    expect(row(w.ben).debriefs).toEqual({ owed: 2, done: 1, onTime: 0, pending: 1, overdue: 0 });
    for (const who of [w.cal, w.dan]) expect(row(who).debriefs).toEqual({ owed: 0, done: 0, onTime: 0, pending: 0, overdue: 0 });
    expect(report.team.debriefs).toEqual({ owed: 4, done: 2, onTime: 1, pending: 2, overdue: 1 });
  });

  it('sums supervision per supervisionEvery period overlapping the window, and the ended periods short of the minimum', () => {
    const periods = (feb: number, mar: number) => [
      { ...FEB, minutes: feb, ended: true, short: feb < 90 },
      { ...MAR, minutes: mar, ended: false, short: mar < 90 },
    ];
    // Ana: February 60 (the January 200 is outside), March 90 + 30.
    expect(row(w.ana).supervision).toEqual({ periods: periods(60, 120), shortPeriods: 1 });
    // Ben: 90 in February is enough; March is short so far, but it has not ended.
    expect(row(w.ben).supervision).toEqual({ periods: periods(90, 0), shortPeriods: 0 });
    for (const who of [w.cal, w.dan]) expect(row(who).supervision).toEqual({ periods: periods(0, 0), shortPeriods: 1 });
    expect(report.team.supervision).toEqual({
      periods: [
        { ...FEB, minutes: 150, ended: true, shortInterveners: 3 },
        { ...MAR, minutes: 120, ended: false, shortInterveners: 3 },
      ],
      shortPeriods: 3,
    });
  });

  it('names every rule in its definition, including that nothing is suppressed', () => {
    const d = report.definition;
    for (const key of [
      'visibility',
      'suppression',
      'interveners',
      'weeks',
      'exposure',
      'hours',
      'weeklyExposureCap',
      'capMinutes',
      'overCap',
      'debriefsOwed',
      'debriefWithin',
      'debriefsOnTime',
      'debriefsPending',
      'debriefsOverdue',
      'supervisionEvery',
      'supervisionMinMinutes',
      'supervisionPeriods',
      'shortPeriods',
      'team',
    ]) {
      expect(d, key).toHaveProperty(key);
    }
    expect(d['suppression']).toMatch(/^None/);
    expect(d).toMatchObject({
      weeklyExposureCap: 'PT2H',
      capMinutes: 120,
      debriefWithin: 'PT48H',
      supervisionEvery: 'P1M',
      supervisionMinMinutes: 90,
    });
  });

  it('audits each report as report.welfare', async () => {
    const before = await auditCount(t, 'report.welfare', w.lead.id);
    expect(before).toBeGreaterThanOrEqual(1);
    expect((await get(w.lead)).statusCode).toBe(200);
    expect(await auditCount(t, 'report.welfare', w.lead.id)).toBe(before + 1);
  });

  it('is for the program’s leads only: an evaluator finds no such program, other roles are refused', async () => {
    expectProblem(await get(w.ev), 404, 'program.not_found');
    expect(await auditCount(t, 'report.welfare', w.ev.id)).toBe(0);
    for (const who of [w.an, w.ana, w.admin]) expectProblem(await get(who), 403, 'auth.forbidden');
    // Another program's lead, and a program that does not exist.
    expectProblem(await get(other.lead), 404, 'program.not_found');
    expectProblem(await get(w.lead, { programId: other.programId, ...WINDOW }), 404, 'program.not_found');
    expectProblem(await get(w.lead, { programId: '0193a1e0-5b2c-7a31-8f4e-6d2b9c0e1a01', ...WINDOW }), 404, 'program.not_found');
  });

  it('keeps welfare figures out of the engagement report', async () => {
    const res = await call(
      t,
      w.lead,
      'GET',
      `/v1/reports/engagement?programId=${w.programId}&from=2026-01-01&to=2026-04-01&groupBy=intervener`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).not.toMatch(/exposure|debrief|supervision|minutesSpent|distressing/i);
  });

  it('refuses a bad window with 400', async () => {
    const bad = (q: Record<string, string>) => get(w.lead, { programId: w.programId, ...q });
    expectProblem(await bad({ from: '2026-03-20', to: '2026-03-20' }), 400, 'report.invalid_window');
    expectProblem(await bad({ from: '2026-03-20', to: '2026-02-20' }), 400, 'report.invalid_window');
    expectProblem(await bad({ from: '2000-01-01', to: '2026-03-20' }), 400, 'report.invalid_window');
    for (const q of [{ from: '2026-02-30', to: '2026-03-20' }, { from: 'yesterday', to: '2026-03-20' }, { to: '2026-03-20' }] as Record<
      string,
      string
    >[]) {
      expect((await bad(q)).statusCode, JSON.stringify(q)).toBe(400);
    }
    expect((await bad({ ...WINDOW, groupBy: 'intervener' })).statusCode).toBe(400);
  });

  it('refuses a window holding more than 1000 supervision periods', async () => {
    const hourly = await cast(t, { lead: 'lead' }, { supervisionEvery: 'PT1H' });
    const q = (to: string) => ({ programId: hourly.programId, from: '2026-03-01', to });
    // 41 days of hourly periods is 984; 42 days is 1008.
    expect((await get(hourly.lead, q('2026-04-11'))).statusCode).toBe(200);
    const refused = expectProblem(await get(hourly.lead, q('2026-04-12')), 400, 'report.invalid_window');
    expect(refused['detail']).toMatch(/more than 1000 supervision periods/);
  });
});
