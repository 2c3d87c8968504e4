import { parseDuration } from '../programs/duration.js';

/**
 * A supervision period: whole calendar months (`P1M`, `P3M`: UTC months counted from January
 * 2000, so P3M is the calendar quarters) or an exact duration (`P2W`, `PT2S`) counted from
 * Monday 2000-01-03 00:00 UTC, so P1W is the ISO week. Fixed boundaries give each period one
 * identity: a shortfall is found, and notified, once per period.
 */
export type Period = { months: number } | { ms: number };

const MONTHS = /^P([1-9]\d?)M$/;
const ANCHOR = Date.UTC(2000, 0, 3);

export function parsePeriod(value: string): Period | undefined {
  const m = MONTHS.exec(value);
  if (m) return { months: Number(m[1]) };
  const ms = parseDuration(value);
  return ms === undefined ? undefined : { ms };
}

/** The period holding `at`: [start, end). */
export function periodAt(period: Period, at: Date): { start: Date; end: Date } {
  if ('months' in period) {
    const index = (at.getUTCFullYear() - 2000) * 12 + at.getUTCMonth();
    const first = Math.floor(index / period.months) * period.months;
    return { start: new Date(Date.UTC(2000, first, 1)), end: new Date(Date.UTC(2000, first + period.months, 1)) };
  }
  const n = Math.floor((at.getTime() - ANCHOR) / period.ms);
  return { start: new Date(ANCHOR + n * period.ms), end: new Date(ANCHOR + (n + 1) * period.ms) };
}

/** Monday 00:00 UTC of the ISO week holding `at`. */
export function isoWeekStart(at: Date): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  return new Date(day - weekday * 86_400_000);
}
