import { and, desc, eq, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { hotQuery } from '../../db/prepared.js';
import { notifications } from '../../db/schema/index.js';
import { dedupeKey, type NotificationKind } from './rules.js';

/** The only code that reads or writes `notifications` (the SQL text of followups/store.ts's one-statement due path included: see notifyFromSql). */

export type NotificationRow = typeof notifications.$inferSelect;

export interface NewNotifications {
  kind: NotificationKind;
  programId: string | null;
  caseId: string | null;
  subjectId: string | null;
  occurrence: string;
  hasHandoverNote?: boolean;
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
        hasHandoverNote: n.hasHandoverNote ?? false,
      })),
    )
    .onConflictDoNothing({ target: notifications.dedupeKey })
    .returning({ id: notifications.id });
  return rows.map((r) => r.id);
}

/** A recipient's notifications, newest first (`unread`: only unread or only read); one more than `limit`. */
export async function listNotificationsOf(
  tx: Tx,
  staffId: string,
  f: { unread?: boolean; limit: number; after?: string },
): Promise<NotificationRow[]> {
  const where: (SQL | undefined)[] = [eq(notifications.staffId, staffId)];
  if (f.unread !== undefined) where.push(f.unread ? isNull(notifications.readAt) : isNotNull(notifications.readAt));
  if (f.after) where.push(lt(notifications.id, f.after));
  return tx
    .select()
    .from(notifications)
    .where(and(...where))
    .orderBy(desc(notifications.id))
    .limit(f.limit + 1);
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

export async function findNotification(db: Tx, id: string): Promise<NotificationRow | undefined> {
  const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
  return row;
}

/**
 * The insert half of another store's one-statement "change and notify" (a CTE named `source`
 * with the columns the select list names): one notification of kind `$kind` per row, keyed
 * `$prefix || recipient` as dedupeKey() keys it, skipped if that key exists; returns the ids.
 * Parameters are the statement's own: pass their `$n` placeholders.
 */
export function notifyFromSql(
  source: string,
  p: { id: string; kind: string; prefix: string },
  cols: { recipient: string; programId: string; caseId: string; subjectId: string },
): string {
  return `insert into notifications (id, staff_id, program_id, kind, case_id, subject_id, dedupe_key)
    select ${p.id}, ${source}.${cols.recipient}, ${source}.${cols.programId}, ${p.kind}::notification_kind, ${source}.${cols.caseId},
           ${source}.${cols.subjectId}, ${p.prefix}::text || ${source}.${cols.recipient}
      from ${source} where ${source}.${cols.recipient} is not null
    on conflict (dedupe_key) do nothing
    returning id, subject_id`;
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
  const rows = await hotQuery<{ id: string }>(
    db,
    null,
    `select id from notifications
      where program_id = $2 and webhook_delivered_at is null and webhook_attempts < 10
        and created_at > $1::timestamptz - interval '1 day' and created_at < $1::timestamptz - interval '1 minute'
      order by id limit $3`,
    [now, programId, limit],
  );
  return rows.map((r) => r.id);
}
