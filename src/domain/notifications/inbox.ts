import { and, desc, eq, isNotNull, isNull, lt, type SQL } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { notifications } from '../../db/schema/index.js';
import { appendAudit, auditEvent, listReadEvents } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import { markRead } from './notify.js';
import type { NotificationRow } from './store.js';

export type { NotificationRow } from './store.js';

export function toNotificationView(n: NotificationRow) {
  return { id: n.id, kind: n.kind, caseId: n.caseId, createdAt: n.createdAt, readAt: n.readAt };
}

export interface InboxFilter {
  /** true: only unread; false: only read; absent: all. */
  unread?: boolean;
  limit: number;
  after?: string;
}

/** The caller's own notifications, newest first. */
export async function listInbox(tx: Tx, ctx: Ctx, f: InboxFilter): Promise<NotificationRow[]> {
  const where: (SQL | undefined)[] = [eq(notifications.staffId, ctx.principal.staffId)];
  if (f.unread !== undefined) where.push(f.unread ? isNull(notifications.readAt) : isNotNull(notifications.readAt));
  if (f.after) where.push(lt(notifications.id, f.after));
  const rows = await tx
    .select()
    .from(notifications)
    .where(and(...where))
    .orderBy(desc(notifications.id))
    .limit(f.limit + 1);
  const shown = rows.slice(0, f.limit).map((r) => r.caseId);
  await appendAudit(tx, listReadEvents(ctx, 'notification.list', 'notification', ctx.principal.programId, shown), ctx.clock.now());
  return rows;
}

/** Marking twice keeps the first readAt. */
export async function readNotification(tx: Tx, ctx: Ctx, id: string): Promise<NotificationRow> {
  const row = await markRead(tx, ctx.principal.staffId, id, ctx.clock.now());
  if (!row) throw notFound('notification');
  await appendAudit(tx, [auditEvent(ctx, 'notification.read', 'notification', id, row.programId, row.caseId)], ctx.clock.now());
  return row;
}
