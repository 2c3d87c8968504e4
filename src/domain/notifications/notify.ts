import type { Tx } from '../../db/client.js';
import { activeLeadIds } from '../staff/store.js';
import type { NotificationKind } from './rules.js';
import { insertNotifications, markNotificationRead } from './store.js';

export type { NotificationKind } from './rules.js';

export interface NotificationRequest {
  kind: NotificationKind;
  programId: string | null;
  caseId: string | null;
  /** The follow-up, concern or touchpoint this is about. */
  subjectId: string | null;
  /** What makes this event unique (e.g. the follow-up id and its version); with the recipient, the dedupe key. */
  occurrence: string;
}

/**
 * Writes one inbox entry per recipient, at most once per (event, recipient): a replayed job or a
 * second worker inserts nothing. Returns the ids actually created (for the webhook).
 */
export async function notify(tx: Tx, recipients: string[], req: NotificationRequest): Promise<string[]> {
  return insertNotifications(tx, [...new Set(recipients)], req);
}

/** Active leads of a program (and, for escalations, active admins). */
export function leadsOf(tx: Tx, programId: string, withAdmins = false): Promise<string[]> {
  return activeLeadIds(tx, programId, withAdmins);
}

export function markRead(tx: Tx, staffId: string, id: string, now: Date) {
  return markNotificationRead(tx, staffId, id, now);
}
