import type { FollowUpStatus } from '../vocabulary.js';

/** Statuses in which a follow-up still asks for something (and may fire). */
export const OUTSTANDING = ['pending', 'due', 'overdue'] as const satisfies readonly FollowUpStatus[];

/** A follow-up version's reminders, as notifications name the occurrence: one per version. */
export function followUpOccurrence(f: { id: string; version: number }): string {
  return `${f.id}-v${f.version}`;
}

/** Statuses an overdue reminder may still fire from (`due` skipped during an outage is delivered with it). */
export const OVERDUE_FROM = ['pending', 'due'] as const satisfies readonly FollowUpStatus[];
