/** The shortest duration a setting may have: shorter ones turn reminders into a flood. */
export const MIN_DURATION = 'PT1S';
/** The longest: ten years and a bit, well inside what PostgreSQL intervals and timestamps hold. */
export const MAX_DURATION = 'P3660D';

const MIN_MS = 1_000;
const MAX_MS = 3660 * 86_400_000;

// Nine digits hold every bounded value written plainly (PT316224000S is P3660D) and keep the
// arithmetic far from float trouble; a fraction goes to the millisecond, what timers and Date hold.
const PATTERN = /^P(?:(\d{1,9})W)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})(?:\.(\d{1,3}))?S)?)?$/;

/**
 * Milliseconds of an ISO 8601 duration in weeks, days, hours, minutes and seconds (with up to
 * three decimals), from PT1S to P3660D; undefined for anything else. Years and months are
 * refused: their length depends on the calendar, and reminders need an exact span. A day is
 * 24 hours, as in PostgreSQL's `extract(epoch from interval)`.
 */
export function parseDuration(value: string): number | undefined {
  const m = PATTERN.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  const [, w, d, h, min, s, fraction] = m;
  const ms =
    Number(w ?? 0) * 604_800_000 +
    Number(d ?? 0) * 86_400_000 +
    Number(h ?? 0) * 3_600_000 +
    Number(min ?? 0) * 60_000 +
    Number(s ?? 0) * 1000 +
    Number((fraction ?? '').padEnd(3, '0'));
  return ms >= MIN_MS && ms <= MAX_MS ? ms : undefined;
}
