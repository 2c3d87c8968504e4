import type { Tx } from '../../db/client.js';
import { auditEvent, listReadEvents } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import { markRead } from './notify.js';
import { listNotificationsOf, type NotificationRow } from './store.js';

export type { NotificationRow } from './store.js';

export function toNotificationView(n: NotificationRow) {
  return {
    id: n.id,
    kind: n.kind,
    caseId: n.caseId,
    createdAt: n.createdAt,
    readAt: n.readAt,
    // Only when there is one: the item is otherwise exactly { id, kind, caseId, createdAt, readAt }.
    ...(n.hasHandoverNote ? { hasHandoverNote: true as const } : {}),
  };
}

export interface InboxFilter {
  /** true: only unread; false: only read; absent: all. */
  unread?: boolean;
  limit: number;
  after?: string;
}

/** The caller's own notifications, newest first. */
export async function listInbox(tx: Tx, ctx: Ctx, f: InboxFilter): Promise<NotificationRow[]> {
  const rows = await listNotificationsOf(tx, ctx.principal.staffId, f);
  const shown = rows.slice(0, f.limit).map((r) => r.caseId);
  ctx.audit(...listReadEvents(ctx, 'notification.list', 'notification', ctx.principal.programId, shown));
  return rows;
}

/** Marking twice keeps the first readAt. */
export async function readNotification(tx: Tx, ctx: Ctx, id: string): Promise<NotificationRow> {
  const row = await markRead(tx, ctx.principal.staffId, id, ctx.clock.now());
  if (!row) throw notFound('notification');
  ctx.audit(auditEvent(ctx, 'notification.read', 'notification', id, row.programId, row.caseId));
  return row;
}
