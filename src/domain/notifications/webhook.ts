import { createHmac } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { notifications, programs } from '../../db/schema/index.js';
import type { Clock } from '../clock.js';
import { resolveSettings } from '../programs/settings.js';

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ ok: boolean; status: number }>;

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The only outbound HTTP Overture makes: a notification POSTed to the program's own staff
 * webhook, signed, carrying ids and the kind only (never a handle, a note or a summary).
 * Throws on failure so the queue retries with exponential backoff.
 */
export async function deliverWebhook(db: Db, clock: Clock, notificationId: string, fetchImpl: Fetch = fetch as unknown as Fetch) {
  const [row] = await db
    .select({ n: notifications, settings: programs.settings, secret: programs.webhookSecret })
    .from(notifications)
    .innerJoin(programs, eq(programs.id, notifications.programId))
    .where(eq(notifications.id, notificationId));
  if (!row || row.n.webhookDeliveredAt) return { outcome: 'done' as const };
  const url = resolveSettings(row.settings).staffWebhookUrl;
  if (!url || !row.secret) return { outcome: 'no-webhook' as const };
  const body = JSON.stringify({
    id: row.n.id,
    kind: row.n.kind,
    staffId: row.n.staffId,
    programId: row.n.programId,
    caseId: row.n.caseId,
    createdAt: row.n.createdAt.toISOString(),
  });
  await db
    .update(notifications)
    .set({ webhookAttempts: sql`${notifications.webhookAttempts} + 1` })
    .where(eq(notifications.id, notificationId));
  const res = await fetchImpl(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Overture-Webhook/1',
      'x-overture-delivery': row.n.id,
      'x-overture-signature': signature(row.secret, body),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  await db.update(notifications).set({ webhookDeliveredAt: clock.now() }).where(eq(notifications.id, notificationId));
  return { outcome: 'delivered' as const };
}
