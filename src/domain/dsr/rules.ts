import type { DsrType } from '../vocabulary.js';

/** How long before the effective due date `dsr_due_soon` goes out. */
export const DUE_SOON_MS = 7 * 86_400_000;

/** Requests whose fulfilment erases and suppresses every match. */
export const ERASING_TYPES: readonly DsrType[] = ['objection', 'erasure'];

/**
 * `at` plus `months` calendar months in UTC, the day clamped to the end of a shorter month
 * (31 January + P1M = 28 or 29 February), the time of day kept.
 */
export function addCalendarMonths(at: Date, months: number): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(y, m, Math.min(at.getUTCDate(), lastDay), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds()),
  );
}

/** The statutory month: receivedAt + P1M. */
export const dueAtOf = (receivedAt: Date) => addCalendarMonths(receivedAt, 1);

/** The one extension allowed: dueAt + P2M. */
export const extendedUntilOf = (dueAt: Date) => addCalendarMonths(dueAt, 2);

/** The date that binds now: the extension's, once there is one. */
export const effectiveDueAt = (d: { dueAt: Date; extendedUntil: Date | null }) => d.extendedUntil ?? d.dueAt;

export function isOverdue(d: { status: string; dueAt: Date; extendedUntil: Date | null }, now: Date): boolean {
  return d.status === 'open' && effectiveDueAt(d).getTime() <= now.getTime();
}
