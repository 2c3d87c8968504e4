import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { notifications, programs } from '../../db/schema/index.js';
import { storedSettingsColumn } from '../programs/settings.js';
import { dedupeKey, type NotificationKind } from './rules.js';

/** The only code that writes notifications (follow-ups' one-statement due path excepted: see followups/store.ts). */

export type NotificationRow = typeof notifications.$inferSelect;

export interface NewNotifications {
  kind: NotificationKind;
  programId: string | null;
  caseId: string | null;
  subjectId: string | null;
  occurrence: string;
}

/** One row per recipient, skipping any whose dedupe key exists; the ids actually created. */
export async function insertNotifications(tx: Tx, recipients: readonly string[], n: NewNotifications): Promise<string[]> {
  if (recipients.length === 0) return [];
  const rows = await tx
    .insert(notifications)
    .values(
      recipients.map((staffId) => ({
        id: uuidv7(),
        staffId,
        programId: n.programId,
        kind: n.kind,
        caseId: n.caseId,
        subjectId: n.subjectId,
        dedupeKey: dedupeKey(n.kind, n.occurrence, staffId),
      })),
    )
    .onConflictDoNothing({ target: notifications.dedupeKey })
    .returning({ id: notifications.id });
  return rows.map((r) => r.id);
}

/** Marks the recipient's notification read, keeping the first readAt; undefined when it is not theirs. */
export async function markNotificationRead(tx: Tx, staffId: string, id: string, now: Date): Promise<NotificationRow | undefined> {
  const [row] = await tx
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, ${now})` })
    .where(and(eq(notifications.id, id), eq(notifications.staffId, staffId)))
    .returning();
  return row;
}

/** A notification with its program's settings and webhook secret, for a delivery. */
export async function notificationForWebhook(db: Db, id: string) {
  const [row] = await db
    .select({ n: notifications, settings: storedSettingsColumn, secret: programs.webhookSecret })
    .from(notifications)
    .innerJoin(programs, eq(programs.id, notifications.programId))
    .where(eq(notifications.id, id));
  return row;
}

export async function countWebhookAttempt(db: Db, id: string): Promise<void> {
  await db
    .update(notifications)
    .set({ webhookAttempts: sql`${notifications.webhookAttempts} + 1` })
    .where(eq(notifications.id, id));
}

export async function markWebhookDelivered(db: Db, id: string, at: Date): Promise<void> {
  await db.update(notifications).set({ webhookDeliveredAt: at }).where(eq(notifications.id, id));
}

/** Undelivered notifications of a program, a minute to a day old, with attempts left. */
export async function undeliveredWebhooks(db: Db, programId: string, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.$client.query<{ id: string }>(
    `select id from notifications
      where program_id = $2 and webhook_delivered_at is null and webhook_attempts < 10
        and created_at > $1::timestamptz - interval '1 day' and created_at < $1::timestamptz - interval '1 minute'
      order by id limit $3`,
    [now, programId, limit],
  );
  return rows.map((r) => r.id);
}
