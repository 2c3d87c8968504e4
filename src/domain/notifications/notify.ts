import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import type { NOTIFICATION_KINDS } from '../../db/schema/enums.js';
import { notifications, staff } from '../../db/schema/index.js';

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

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
  const unique = [...new Set(recipients)];
  if (unique.length === 0) return [];
  const rows = await tx
    .insert(notifications)
    .values(
      unique.map((staffId) => ({
        id: uuidv7(),
        staffId,
        programId: req.programId,
        kind: req.kind,
        caseId: req.caseId,
        subjectId: req.subjectId,
        dedupeKey: `${req.kind}/${req.occurrence}/${staffId}`,
      })),
    )
    .onConflictDoNothing({ target: notifications.dedupeKey })
    .returning({ id: notifications.id });
  return rows.map((r) => r.id);
}

/** Active leads of a program (and, for escalations, active admins). */
export async function leadsOf(tx: Tx, programId: string, withAdmins = false): Promise<string[]> {
  const rows = await tx
    .select({ id: staff.id })
    .from(staff)
    .where(
      and(
        eq(staff.active, true),
        withAdmins
          ? or(and(eq(staff.programId, programId), eq(staff.role, 'lead')), and(isNull(staff.programId), eq(staff.role, 'admin')))
          : and(eq(staff.programId, programId), inArray(staff.role, ['lead'])),
      ),
    );
  return rows.map((r) => r.id);
}

export async function markRead(tx: Tx, staffId: string, id: string, now: Date) {
  const [row] = await tx
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, ${now})` })
    .where(and(eq(notifications.id, id), eq(notifications.staffId, staffId)))
    .returning();
  return row;
}
