import type { Tx } from '../../db/client.js';
import { auditEvent } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { invalid, notFound } from '../errors.js';
import { programSettings } from '../programs/settings.js';
import { listStaffRows } from '../staff/store.js';
import { isoWeekStart, parsePeriod, periodAt } from './period.js';
import { capMinutesOf } from './service.js';
import { type BucketMinutes, type DebriefTally, debriefTallies, exposureMinutesByBucket, supervisionMinutesByBucket } from './store.js';

/** The window of GET /v1/reports/welfare: UTC days, `to` exclusive (checked by the route). */
export interface WelfareWindow {
  programId: string;
  from: string;
  to: string;
}

const WEEK_MS = 7 * 86_400_000;
/** More periods than this (a tiny supervisionEvery over a long window) is a table nobody can read: 400. */
export const MAX_SUPERVISION_PERIODS = 1000;
const STAFF_PAGE = 500;

const hours = (minutes: number) => Math.round((minutes / 60) * 100) / 100;

/** Consecutive [start, end) spans from the one holding `from` until one reaches `to`, as bounds. */
function boundsOver(from: Date, to: Date, spanAt: (at: Date) => { start: Date; end: Date }, max: number): Date[] | undefined {
  const first = spanAt(from);
  const bounds = [first.start, first.end];
  while (bounds.at(-1)! < to) {
    if (bounds.length > max) return undefined;
    bounds.push(spanAt(bounds.at(-1)!).end);
  }
  return bounds;
}

/** Minutes by staff member and bucket, as a lookup with 0 for nothing. */
function byBucket(rows: BucketMinutes[]) {
  const m = new Map<string, number>();
  for (const r of rows) m.set(`${r.staffId}/${r.bucket}`, r.minutes);
  return (staffId: string, bucket: number) => m.get(`${staffId}/${bucket}`) ?? 0;
}

const NO_DEBRIEFS = { owed: 0, done: 0, onTime: 0, pending: 0, overdue: 0 };

/** Every intervener of the program, active or not, by name. */
async function intervenersOf(tx: Tx, programId: string) {
  const out: { id: string; name: string; active: boolean }[] = [];
  for (let after: string | undefined; ; ) {
    const rows = await listStaffRows(tx, { programId, role: 'intervener', limit: STAFF_PAGE, after });
    out.push(...rows.slice(0, STAFF_PAGE).map((r) => ({ id: r.id, name: r.name, active: r.active })));
    if (rows.length <= STAFF_PAGE) break;
    after = rows[STAFF_PAGE - 1]!.id;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, 'en') || a.id.localeCompare(b.id));
}

/**
 * GET /v1/reports/welfare: each intervener's and the team's exposure per ISO week against the cap,
 * debriefs owed and kept, and supervision per period. Welfare is about staff: a lead of the program
 * reads it; to an evaluator (or anyone else) there is no such program.
 */
export async function welfareReport(tx: Tx, ctx: Ctx, w: WelfareWindow) {
  const p = ctx.principal;
  if (p.role !== 'lead' || p.programId !== w.programId) throw notFound('program');
  const settings = await programSettings(tx, w.programId);
  const asOf = ctx.clock.now();
  const from = new Date(`${w.from}T00:00:00Z`);
  const to = new Date(`${w.to}T00:00:00Z`);

  const weekBounds = boundsOver(
    from,
    to,
    (at) => ({ start: isoWeekStart(at), end: new Date(isoWeekStart(at).getTime() + WEEK_MS) }),
    Infinity,
  )!;
  const period = parsePeriod(settings.supervisionEvery) ?? parsePeriod('P1M')!;
  const periodBounds = boundsOver(from, to, (at) => periodAt(period, at), MAX_SUPERVISION_PERIODS);
  if (!periodBounds) {
    throw invalid(
      'report.invalid_window',
      `The window holds more than ${MAX_SUPERVISION_PERIODS} supervision periods of ${settings.supervisionEvery}: narrow it.`,
      'querystring.from',
    );
  }

  const everyone = await intervenersOf(tx, w.programId);
  const ids = everyone.map((s) => s.id);
  const exposure = byBucket(await exposureMinutesByBucket(tx, ids, weekBounds));
  const supervision = byBucket(await supervisionMinutesByBucket(tx, ids, periodBounds));
  const tallies = new Map<string, DebriefTally>((await debriefTallies(tx, w.programId, from, to, asOf)).map((d) => [d.staffId, d]));
  const capMinutes = capMinutesOf(settings);
  const min = settings.supervisionMinMinutes;
  const weeks = weekBounds.slice(0, -1).map((start, i) => ({ i, start }));
  const periods = periodBounds
    .slice(0, -1)
    .map((start, i) => ({ i, start, end: periodBounds[i + 1]!, ended: periodBounds[i + 1]! <= asOf }));

  const rows = everyone.map((s) => {
    const weekly = weeks.map((k) => {
      const minutes = exposure(s.id, k.i);
      return { weekStart: k.start, minutes, hours: hours(minutes), overCap: minutes >= capMinutes };
    });
    const sessions = periods.map((k) => {
      const minutes = supervision(s.id, k.i);
      return { start: k.start, end: k.end, minutes, ended: k.ended, short: minutes < min };
    });
    const { staffId: _, ...debriefs } = tallies.get(s.id) ?? { staffId: s.id, ...NO_DEBRIEFS };
    const totalMinutes = weekly.reduce((n, x) => n + x.minutes, 0);
    return {
      id: s.id,
      name: s.name,
      active: s.active,
      exposure: {
        weeks: weekly,
        totalMinutes,
        totalHours: hours(totalMinutes),
        overCapWeeks: weekly.filter((x) => x.overCap).length,
      },
      debriefs,
      supervision: { periods: sessions, shortPeriods: sessions.filter((x) => x.ended && x.short).length },
    };
  });
  // Deactivated interveners stay in the report while the window holds something of theirs.
  const interveners = rows.filter(
    (r) => r.active || r.exposure.totalMinutes > 0 || r.debriefs.owed > 0 || r.supervision.periods.some((x) => x.minutes > 0),
  );

  const sum = (pick: (r: (typeof interveners)[number]) => number) => interveners.reduce((n, r) => n + pick(r), 0);
  const teamWeeks = weeks.map((k) => {
    const minutes = sum((r) => r.exposure.weeks[k.i]!.minutes);
    return { weekStart: k.start, minutes, hours: hours(minutes), overCapInterveners: sum((r) => (r.exposure.weeks[k.i]!.overCap ? 1 : 0)) };
  });
  const teamMinutes = teamWeeks.reduce((n, x) => n + x.minutes, 0);
  const team = {
    interveners: interveners.length,
    exposure: {
      weeks: teamWeeks,
      totalMinutes: teamMinutes,
      totalHours: hours(teamMinutes),
      overCapWeeks: sum((r) => r.exposure.overCapWeeks),
    },
    debriefs: {
      owed: sum((r) => r.debriefs.owed),
      done: sum((r) => r.debriefs.done),
      onTime: sum((r) => r.debriefs.onTime),
      pending: sum((r) => r.debriefs.pending),
      overdue: sum((r) => r.debriefs.overdue),
    },
    supervision: {
      periods: periods.map((k) => ({
        start: k.start,
        end: k.end,
        minutes: sum((r) => r.supervision.periods[k.i]!.minutes),
        ended: k.ended,
        shortInterveners: sum((r) => (r.supervision.periods[k.i]!.short ? 1 : 0)),
      })),
      shortPeriods: sum((r) => r.supervision.shortPeriods),
    },
  };

  ctx.audit(auditEvent(ctx, 'report.welfare', 'program', w.programId, w.programId));
  return {
    programId: w.programId,
    from: w.from,
    to: w.to,
    capMinutes,
    capHours: hours(capMinutes),
    supervisionEvery: settings.supervisionEvery,
    supervisionMinMinutes: min,
    interveners,
    team,
    asOf,
    definition: {
      visibility:
        'Welfare figures are about staff: a lead of the program reads them; evaluators never do, and they never appear in engagement reports.',
      suppression:
        'None: these are figures about the program’s own staff for their own leads, not about subjects, so no small cell is hidden.',
      interveners: 'The program’s active interveners, and deactivated ones with anything in the window; leads log no exposure here.',
      weeks: 'UTC ISO weeks (Monday 00:00 UTC to the next Monday) overlapping [from, to), each counted whole; a week with nothing is 0.',
      exposure:
        'The minutesSpent of the touchpoints the intervener logged (by occurredAt; voided ones count nowhere) plus their logged time (POST /v1/me/time, by at): the sum GET /v1/me/welfare and candidates read.',
      hours: 'minutes / 60, rounded to 2 decimals.',
      weeklyExposureCap: settings.weeklyExposureCap,
      capMinutes,
      overCap:
        'A week at or over the cap (minutes ≥ capMinutes), the test of overCap in GET /v1/me/welfare, against the cap as set now; the team’s week counts its interveners over it.',
      debriefsOwed:
        'Debriefs created in [from, to) (a distressing or hostile touchpoint, a safeguarding concern, an unsafe_to_continue closure).',
      debriefWithin: settings.debriefWithin,
      debriefsOnTime: 'Done with doneAt ≤ dueAt (dueAt = created + debriefWithin).',
      debriefsPending: 'Of those owed, still pending at asOf.',
      debriefsOverdue: 'Of those owed, still pending with dueAt ≤ asOf.',
      supervisionEvery: settings.supervisionEvery,
      supervisionMinMinutes: min,
      supervisionPeriods:
        'supervisionEvery periods overlapping [from, to), each counted whole: whole UTC months counted from January 2000, or fixed spans from Monday 2000-01-03 UTC; sessions by at.',
      shortPeriods:
        'A period is short with fewer minutes than supervisionMinMinutes; shortPeriods counts the short periods that have ended by asOf (the current one may still be made up).',
      team: 'Sums over the interveners listed; overCapInterveners and shortInterveners count interveners per week and per period.',
    },
  };
}
