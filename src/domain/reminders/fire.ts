import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { hotQuery, selectList } from '../../db/hot.js';
import { uuidv7 } from '../../db/ids.js';
import { cases, followUps, safeguardingConcerns, touchpoints } from '../../db/schema/index.js';
import type { Clock } from '../clock.js';
import type { JobRequest } from '../context.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { loadSettings, ms, resolveSettings } from '../programs/settings.js';
import type { FollowUpRow } from '../followups/schedule.js';
import { followUpDueJob, followUpOverdueJob, responseSlaJob, safeguardingJob, webhookJobsFor } from './jobs.js';

/** What a reminder run did, and the jobs to enqueue once it committed. */
export interface Fired {
  outcome: 'fired' | 'stale' | 'early' | 'answered';
  jobs: JobRequest[];
}

async function lockFollowUp(tx: Tx, id: string) {
  const [f] = await tx.select().from(followUps).where(eq(followUps.id, id)).for('update');
  return f;
}

/**
 * A pending follow-up of this version that is due: mark it due and notify its holder, with the
 * dedupe key notify() would give (`follow_up_due/<id>-v<version>/<staffId>`), so a replay or the
 * general path can never notify twice.
 */
const FIRE_DUE_SQL = `
  with f as (
    update follow_ups set status = 'due', due_notified_at = $3
     where id = $1 and version = $2 and status = 'pending' and due_at <= $3
    returning ${selectList(followUps)}
  ), n as (
    insert into notifications (id, staff_id, program_id, kind, case_id, subject_id, dedupe_key)
    select $4, f."assigneeId", f."programId", 'follow_up_due', f."caseId", f.id, 'follow_up_due/' || f.id || '-v' || f.version || '/' || f."assigneeId"
      from f where f."assigneeId" is not null
    on conflict (dedupe_key) do nothing
    returning id
  )
  select f.*, (select settings from programs where id = f."programId") as "programSettings", (select id from n) as "notificationId" from f`;

/**
 * At dueAt a pending follow-up becomes `due` and its holder is told, once. Replays, duplicate
 * deliveries and jobs for an older version (snoozed, completed, cancelled) change nothing.
 */
export async function fireFollowUpDue(db: Db, clock: Clock, followUpId: string, version: number): Promise<Fired> {
  // The usual case (pending, this version, due by now) in one statement and one round trip; it
  // changes nothing otherwise, and the general path below then finds out what the job met.
  const now = clock.now();
  const [fired] = await hotQuery<FollowUpRow & { programSettings: Record<string, unknown> | null; notificationId: string | null }>(
    db,
    'follow_up_fire_due',
    FIRE_DUE_SQL,
    [followUpId, version, now, uuidv7()],
  );
  if (fired) {
    const settings = resolveSettings(fired.programSettings);
    const ids = fired.notificationId ? [fired.notificationId] : [];
    return { outcome: 'fired', jobs: [followUpOverdueJob(fired, settings, now), ...webhookJobsFor(settings, ids)] };
  }
  return db.transaction(async (tx) => {
    const f = await lockFollowUp(tx, followUpId);
    if (!f || f.version !== version || f.status !== 'pending') return { outcome: 'stale', jobs: [] };
    if (f.dueAt > now) return { outcome: 'early', jobs: [followUpDueJob(f, now)] };
    const settings = await loadSettings(tx, f.programId);
    await tx.update(followUps).set({ status: 'due', dueNotifiedAt: now }).where(eq(followUps.id, f.id));
    const ids = await notify(tx, f.assigneeId ? [f.assigneeId] : [], {
      kind: 'follow_up_due',
      programId: f.programId,
      caseId: f.caseId,
      subjectId: f.id,
      occurrence: `${f.id}-v${f.version}`,
    });
    return { outcome: 'fired', jobs: [followUpOverdueJob(f, settings, now), ...webhookJobsFor(settings, ids)] };
  });
}

/** At dueAt + overdueGrace an unfinished follow-up becomes `overdue` and every lead is told, once. */
export async function fireFollowUpOverdue(db: Db, clock: Clock, followUpId: string, version: number): Promise<Fired> {
  return db.transaction(async (tx) => {
    const f = await lockFollowUp(tx, followUpId);
    if (!f || f.version !== version || (f.status !== 'pending' && f.status !== 'due')) return { outcome: 'stale', jobs: [] };
    const now = clock.now();
    const settings = await loadSettings(tx, f.programId);
    if (f.dueAt.getTime() + ms(settings, 'overdueGrace') > now.getTime()) {
      return { outcome: 'early', jobs: [followUpOverdueJob(f, settings, now)] };
    }
    const ids: string[] = [];
    if (f.status === 'pending') {
      // The due reminder never ran (queue outage): the holder hears of it first, still once.
      ids.push(
        ...(await notify(tx, f.assigneeId ? [f.assigneeId] : [], {
          kind: 'follow_up_due',
          programId: f.programId,
          caseId: f.caseId,
          subjectId: f.id,
          occurrence: `${f.id}-v${f.version}`,
        })),
      );
    }
    await tx
      .update(followUps)
      .set({ status: 'overdue', overdueNotifiedAt: now, dueNotifiedAt: f.dueNotifiedAt ?? now })
      .where(eq(followUps.id, f.id));
    ids.push(
      ...(await notify(tx, await leadsOf(tx, f.programId), {
        kind: 'follow_up_overdue',
        programId: f.programId,
        caseId: f.caseId,
        subjectId: f.id,
        occurrence: `${f.id}-v${f.version}`,
      })),
    );
    return { outcome: 'fired', jobs: webhookJobsFor(settings, ids) };
  });
}

/** An inbound message with no outbound reply within responseSla: the holder is told, once. */
export async function fireResponseSla(db: Db, clock: Clock, touchpointId: string): Promise<Fired> {
  return db.transaction(async (tx) => {
    const [t] = await tx.select().from(touchpoints).where(eq(touchpoints.id, touchpointId)).for('update');
    if (!t?.awaitingResponse) return { outcome: 'stale', jobs: [] };
    const now = clock.now();
    const settings = await loadSettings(tx, t.programId);
    if (t.occurredAt.getTime() + ms(settings, 'responseSla') > now.getTime()) {
      return { outcome: 'early', jobs: [responseSlaJob(t, settings, now)] };
    }
    const [c] = await tx.select({ status: cases.status, assigneeId: cases.assigneeId }).from(cases).where(eq(cases.id, t.caseId));
    const [answered] = await tx
      .select({ id: touchpoints.id })
      .from(touchpoints)
      .where(and(eq(touchpoints.caseId, t.caseId), eq(touchpoints.direction, 'outbound'), sql`${touchpoints.occurredAt} > ${t.occurredAt}`))
      .limit(1);
    if (answered || c?.status !== 'active' || !c.assigneeId) {
      await tx.update(touchpoints).set({ awaitingResponse: false }).where(eq(touchpoints.id, t.id));
      return { outcome: 'answered', jobs: [] };
    }
    await tx.update(touchpoints).set({ awaitingResponse: false, responseOverdueNotifiedAt: now }).where(eq(touchpoints.id, t.id));
    const ids = await notify(tx, [c.assigneeId], {
      kind: 'response_overdue',
      programId: t.programId,
      caseId: t.caseId,
      subjectId: t.id,
      occurrence: t.id,
    });
    return { outcome: 'fired', jobs: webhookJobsFor(settings, ids) };
  });
}

/**
 * Unacknowledged after safeguardingAckWithin: leads and admins are told, and again each period
 * until someone acknowledges. A period missed during an outage fires once, not once per period.
 */
export async function fireSafeguardingEscalation(db: Db, clock: Clock, concernId: string, period: number): Promise<Fired> {
  return db.transaction(async (tx) => {
    const [c] = await tx.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.id, concernId)).for('update');
    if (c?.status !== 'open') return { outcome: 'stale', jobs: [] };
    const now = clock.now();
    const settings = await loadSettings(tx, c.programId);
    const ack = ms(settings, 'safeguardingAckWithin');
    const current = Math.floor((now.getTime() - c.raisedAt.getTime()) / ack);
    if (current < period) return { outcome: 'early', jobs: [safeguardingJob(c, period, settings, now)] };
    const next = safeguardingJob(c, Math.max(current, c.escalations) + 1, settings, now);
    if (c.escalations >= current) return { outcome: 'stale', jobs: [next] };
    await tx.update(safeguardingConcerns).set({ escalations: current }).where(eq(safeguardingConcerns.id, c.id));
    const ids = await notify(tx, await leadsOf(tx, c.programId, true), {
      kind: 'safeguarding_unacknowledged',
      programId: c.programId,
      caseId: c.caseId,
      subjectId: c.id,
      occurrence: `${c.id}-p${current}`,
    });
    return { outcome: 'fired', jobs: [next, ...webhookJobsFor(settings, ids)] };
  });
}
