import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { cases } from '../../db/schema/index.js';
import type { Clock } from '../clock.js';
import type { JobRequest } from '../context.js';
import { DEFAULT_SETTINGS } from '../programs/settings.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { fireFollowUpDue, fireFollowUpOverdue, fireResponseSla, fireSafeguardingEscalation } from './fire.js';
import { webhookJobs } from './jobs.js';

const BATCH = 500;

/** A program setting as a PostgreSQL interval (ISO 8601 durations parse natively). */
const setting = (key: 'overdueGrace' | 'responseSla' | 'safeguardingAckWithin' | 'noContactAlertAfter') =>
  `coalesce(p.settings->>'${key}', '${DEFAULT_SETTINGS[key]}')::interval`;

/**
 * Active cases quiet for noContactAlertAfter: the holder and the leads are told once per quiet
 * spell. A spell starts at the last touchpoint (or, with none, the latest assignment).
 */
export async function scanNoContact(db: Db, clock: Clock): Promise<{ alerted: number; jobs: JobRequest[] }> {
  const now = clock.now();
  const { rows } = await db.$client.query<{ id: string; program_id: string; assignee_id: string | null; spell_start: Date }>(
    `select c.id, c.program_id, c.assignee_id, s.spell_start
       from cases c
       join programs p on p.id = c.program_id
       cross join lateral (
         select coalesce(c.last_touchpoint_at, (select max(a.started_at) from assignments a where a.case_id = c.id), c.flagged_at) as spell_start
       ) s
      where c.status = 'active'
        and s.spell_start + ${setting('noContactAlertAfter')} <= $1
        and (c.no_contact_alerted_at is null or c.no_contact_alerted_at < s.spell_start)
      order by c.id
      limit ${BATCH}`,
    [now],
  );
  const jobs: JobRequest[] = [];
  let alerted = 0;
  for (const r of rows) {
    await db.transaction(async (tx) => {
      const claimed = await tx
        .update(cases)
        .set({ noContactAlertedAt: r.spell_start })
        .where(and(eq(cases.id, r.id), or(isNull(cases.noContactAlertedAt), lt(cases.noContactAlertedAt, r.spell_start))))
        .returning({ id: cases.id });
      if (claimed.length === 0) return;
      alerted++;
      const recipients = [...(r.assignee_id ? [r.assignee_id] : []), ...(await leadsOf(tx, r.program_id))];
      const ids = await notify(tx, recipients, {
        kind: 'no_contact',
        programId: r.program_id,
        caseId: r.id,
        subjectId: r.id,
        occurrence: `${r.id}-${r.spell_start.toISOString()}`,
      });
      jobs.push(...(await webhookJobs(tx, r.program_id, ids)));
    });
  }
  return { alerted, jobs };
}

export interface ReconcileResult {
  followUpsDue: number;
  followUpsOverdue: number;
  responsesOverdue: number;
  safeguardingEscalated: number;
  webhooksRequeued: number;
  jobs: JobRequest[];
}

/**
 * The safety net: whatever PostgreSQL says is due but no job handled (enqueue failed after
 * commit, Redis flushed or down) is handled now, through the same at-most-once functions.
 */
export async function reconcile(db: Db, clock: Clock): Promise<ReconcileResult> {
  const now = clock.now();
  const q = <T extends Record<string, unknown>>(text: string) => db.$client.query<T>(text, [now]).then((r) => r.rows);
  const result: ReconcileResult = { followUpsDue: 0, followUpsOverdue: 0, responsesOverdue: 0, safeguardingEscalated: 0, webhooksRequeued: 0, jobs: [] };
  const collect = (fired: { outcome: string; jobs: JobRequest[] }) => {
    // Early jobs are the fast path's business; only record what actually needs doing.
    if (fired.outcome === 'fired') result.jobs.push(...fired.jobs);
    return fired.outcome === 'fired' ? 1 : 0;
  };

  // Overdue first: it also delivers a missed `due`, in order.
  for (const r of await q<{ id: string; version: number }>(
    `select f.id, f.version from follow_ups f join programs p on p.id = f.program_id
      where f.status in ('pending', 'due') and f.due_at + ${setting('overdueGrace')} <= $1
      order by f.due_at limit ${BATCH}`,
  )) {
    result.followUpsOverdue += collect(await fireFollowUpOverdue(db, clock, r.id, r.version));
  }
  for (const r of await q<{ id: string; version: number }>(
    `select id, version from follow_ups where status = 'pending' and due_at <= $1 order by due_at limit ${BATCH}`,
  )) {
    result.followUpsDue += collect(await fireFollowUpDue(db, clock, r.id, r.version));
  }
  for (const r of await q<{ id: string }>(
    `select t.id from touchpoints t join programs p on p.id = t.program_id
      where t.awaiting_response and t.occurred_at + ${setting('responseSla')} <= $1
      order by t.occurred_at limit ${BATCH}`,
  )) {
    result.responsesOverdue += collect(await fireResponseSla(db, clock, r.id));
  }
  for (const r of await q<{ id: string; escalations: number }>(
    `select s.id, s.escalations from safeguarding_concerns s join programs p on p.id = s.program_id
      where s.status = 'open' and s.raised_at + (s.escalations + 1) * ${setting('safeguardingAckWithin')} <= $1
      order by s.raised_at limit ${BATCH}`,
  )) {
    result.safeguardingEscalated += collect(await fireSafeguardingEscalation(db, clock, r.id, r.escalations + 1));
  }
  for (const r of await q<{ id: string; program_id: string }>(
    `select n.id, n.program_id from notifications n join programs p on p.id = n.program_id
      where n.webhook_delivered_at is null and n.webhook_attempts < 10 and p.settings->>'staffWebhookUrl' is not null
        and n.created_at > $1::timestamptz - interval '1 day' and n.created_at < $1::timestamptz - interval '1 minute'
      order by n.id limit ${BATCH}`,
  )) {
    result.webhooksRequeued++;
    result.jobs.push({ queue: 'webhooks', name: 'deliver', payload: { notificationId: r.id }, jobId: `wh-${r.id}` });
  }
  return result;
}
