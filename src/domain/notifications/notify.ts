import type { Tx } from '../../db/client.js';
import { activeAmong, activeLeadIds, standIns } from '../staff/store.js';
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
  /** case_assigned: the move left a handover note on the case. */
  hasHandoverNote?: boolean;
  /**
   * About the recipient themself (welfare: a debrief, supervision): never redirected to a cover
   * or to the leads, whose own copy, if any, the caller asks for; a deactivated recipient gets none.
   */
  personal?: boolean;
}

/**
 * Writes one inbox entry per recipient, at most once per (event, recipient): a replayed job or a
 * second worker inserts nothing. Returns the ids actually created (for the webhook).
 *
 * An intervener who cannot act on it now is stood in for (API.md, Continuity of care): while
 * absent, by their cover, or with none by the program's leads; once deactivated, by the leads
 * until their cases move.
 */
export async function notify(tx: Tx, recipients: string[], req: NotificationRequest): Promise<string[]> {
  const asked = [...new Set(recipients)];
  if (req.personal) return insertNotifications(tx, await activeAmong(tx, asked), req);
  const stand = await standIns(tx, asked);
  const to = new Set<string>();
  const leadsOfPrograms = new Set<string>();
  for (const id of asked) {
    const s = stand.get(id);
    if (!s) to.add(id);
    else if (s.to) to.add(s.to);
    else if (req.programId ?? s.programId) leadsOfPrograms.add((req.programId ?? s.programId)!);
  }
  for (const programId of leadsOfPrograms) for (const lead of await activeLeadIds(tx, programId, false)) to.add(lead);
  return insertNotifications(tx, [...to], req);
}

/** Active leads of a program (and, for escalations, active admins). */
export function leadsOf(tx: Tx, programId: string, withAdmins = false): Promise<string[]> {
  return activeLeadIds(tx, programId, withAdmins);
}

export function markRead(tx: Tx, staffId: string, id: string, now: Date) {
  return markNotificationRead(tx, staffId, id, now);
}
