import type { NOTIFICATION_KINDS } from '../vocabulary.js';

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The part of a dedupe key before the recipient: SQL that knows the recipient only as a column appends it. */
export function dedupePrefix(kind: NotificationKind, occurrence: string): string {
  return `${kind}/${occurrence}/`;
}

/** One inbox entry per (event, recipient): the unique key a replay collides with. */
export function dedupeKey(kind: NotificationKind, occurrence: string, staffId: string): string {
  return `${dedupePrefix(kind, occurrence)}${staffId}`;
}
