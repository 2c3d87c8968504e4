import type { Db } from '../../db/client.js';
import { caseStatusAndHolder } from '../cases/store.js';
import type { Clock } from '../clock.js';
import type { JobRequest } from '../context.js';
import { followUpOccurrence, OVERDUE_FROM } from '../followups/rules.js';
import { dueFollowUps, lockFollowUp, markFollowUpDue, markFollowUpOverdue, nextOverdueAt } from '../followups/store.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { loadSettings, ms, resolveSettings } from '../programs/settings.js';
import { lockConcern, recordEscalations } from '../safeguarding/store.js';
import { answeredAfter, lockTouchpoint, stopAwaitingResponse } from '../touchpoints/store.js';
import { dueBatcher } from './due-batch.js';
import {
  followUpDueJob,
  followUpOverdueJob,
  overdueJobFor,
  overdueSweepJob,
  responseSlaJob,
  safeguardingJob,
  webhookJobsFor,
} from './jobs.js';

/** What a reminder run did, and the jobs to enqueue once it committed. */
export interface Fired {
  outcome: 'fired' | 'stale' | 'early' | 'answered';
  jobs: JobRequest[];
}

/**
 * At dueAt a pending follow-up becomes `due` and its holder is told, once. Replays, duplicate
 * deliveries and jobs for an older version (snoozed, completed, cancelled) change nothing.
 */
export async function fireFollowUpDue(db: Db, clock: Clock, followUpId: string, version: number): Promise<Fired> {
  // The usual case (pending, this version, due by now) in one statement, shared with the other
  // jobs due at the same moment (DueBatcher); it changes nothing otherwise, and the general path
  // below then finds out what the job met.
  const fired = await dueBatcher(db, clock).fire(followUpId, version);
  const now = clock.now();
  if (fired) {
    const settings = resolveSettings(fired.programSettings);
    const ids = fired.notificationId ? [fired.notificationId] : [];
    return { outcome: 'fired', jobs: [overdueJobFor(fired, settings, now), ...webhookJobsFor(settings, ids)] };
  }
  return db.transaction(async (tx) => {
    const f = await lockFollowUp(tx, followUpId);
    if (!f || f.version !== version || f.status !== 'pending') return { outcome: 'stale', jobs: [] };
    if (f.dueAt > now) return { outcome: 'early', jobs: [followUpDueJob(f, now)] };
    const settings = await loadSettings(tx, f.programId);
    await markFollowUpDue(tx, f.id, now);
    const ids = await notify(tx, f.assigneeId ? [f.assigneeId] : [], {
      kind: 'follow_up_due',
      programId: f.programId,
      caseId: f.caseId,
      subjectId: f.id,
      occurrence: followUpOccurrence(f),
    });
    return { outcome: 'fired', jobs: [overdueJobFor(f, settings, now), ...webhookJobsFor(settings, ids)] };
  });
}

/**
 * Up to `limit` of the program's follow-ups past dueAt + graceMs by `now`, soonest first, each
 * through fireFollowUpOverdue (its own locked transaction: at most once, whoever else sweeps or
 * reconciles at the same moment). What the sweep and the reconcile job both do.
 */
export async function escalateOverdue(
  db: Db,
  clock: Clock,
  programId: string,
  dueBy: { now: Date; graceMs: number },
  limit: number,
): Promise<Fired[]> {
  const fired: Fired[] = [];
  for (const r of await dueFollowUps(db, programId, OVERDUE_FROM, dueBy, limit)) {
    fired.push(await fireFollowUpOverdue(db, clock, r.id, r.version));
  }
  return fired;
}

/** How much one sweep escalates before it hands the rest to the next, a second later. */
export const SWEEP_LIMITS = { batch: 500, passes: 20 };

/**
 * A sweep: every follow-up of the program past dueAt + overdueGrace (the grace as it is now)
 * becomes overdue (escalateOverdue), up to `limits.passes` × `limits.batch` per run. Then it asks
 * for the sweep of the program's next `due` follow-up, so that one whose grace was raised after
 * it fired (its old sweep finds it not yet overdue) still has one, and a run that stopped at its
 * cap goes on a second later. Reconcile stays the safety net.
 */
export async function fireOverdueSweep(
  db: Db,
  clock: Clock,
  programId: string,
  limits = SWEEP_LIMITS,
): Promise<Fired & { escalated: number }> {
  const graceMs = ms(await loadSettings(db, programId), 'overdueGrace');
  const jobs: JobRequest[] = [];
  let escalated = 0;
  let capped = true;
  for (let pass = 0; pass < limits.passes && capped; pass++) {
    const fired = await escalateOverdue(db, clock, programId, { now: clock.now(), graceMs }, limits.batch);
    for (const f of fired) {
      if (f.outcome === 'fired') escalated++;
      jobs.push(...f.jobs);
    }
    capped = fired.length === limits.batch;
  }
  const now = clock.now();
  const next = capped ? now.getTime() : await nextOverdueAt(db, programId, now, graceMs);
  if (next !== undefined) jobs.push(overdueSweepJob(programId, Math.max(next, now.getTime() + 1_000), now));
  return { outcome: escalated > 0 ? 'fired' : 'stale', jobs, escalated };
}

/** At dueAt + overdueGrace an unfinished follow-up becomes `overdue` and every lead is told, once. */
export async function fireFollowUpOverdue(db: Db, clock: Clock, followUpId: string, version: number): Promise<Fired> {
  return db.transaction(async (tx) => {
    const f = await lockFollowUp(tx, followUpId);
    if (!f || f.version !== version || !(OVERDUE_FROM as readonly string[]).includes(f.status)) return { outcome: 'stale', jobs: [] };
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
          occurrence: followUpOccurrence(f),
        })),
      );
    }
    await markFollowUpOverdue(tx, f.id, now, f.dueNotifiedAt ?? now);
    ids.push(
      ...(await notify(tx, await leadsOf(tx, f.programId), {
        kind: 'follow_up_overdue',
        programId: f.programId,
        caseId: f.caseId,
        subjectId: f.id,
        occurrence: followUpOccurrence(f),
      })),
    );
    return { outcome: 'fired', jobs: webhookJobsFor(settings, ids) };
  });
}

/** An inbound message with no outbound reply within responseSla: the holder is told, once. */
export async function fireResponseSla(db: Db, clock: Clock, touchpointId: string): Promise<Fired> {
  return db.transaction(async (tx) => {
    const t = await lockTouchpoint(tx, touchpointId);
    // A voided message was never received: nothing to answer (voiding clears the flag; this is the belt).
    if (!t?.awaitingResponse || t.voidedAt) return { outcome: 'stale', jobs: [] };
    const now = clock.now();
    const settings = await loadSettings(tx, t.programId);
    if (t.occurredAt.getTime() + ms(settings, 'responseSla') > now.getTime()) {
      return { outcome: 'early', jobs: [responseSlaJob(t, settings, now)] };
    }
    const c = await caseStatusAndHolder(tx, t.caseId);
    const answered = await answeredAfter(tx, t.caseId, t.occurredAt);
    if (answered || c?.status !== 'active' || !c.assigneeId) {
      await stopAwaitingResponse(tx, t.id);
      return { outcome: 'answered', jobs: [] };
    }
    await stopAwaitingResponse(tx, t.id, now);
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
    const c = await lockConcern(tx, concernId);
    if (c?.status !== 'open') return { outcome: 'stale', jobs: [] };
    const now = clock.now();
    const settings = await loadSettings(tx, c.programId);
    const ack = ms(settings, 'safeguardingAckWithin');
    const current = Math.floor((now.getTime() - c.raisedAt.getTime()) / ack);
    if (current < period) return { outcome: 'early', jobs: [safeguardingJob(c, period, settings, now)] };
    const next = safeguardingJob(c, Math.max(current, c.escalations) + 1, settings, now);
    if (c.escalations >= current) return { outcome: 'stale', jobs: [next] };
    await recordEscalations(tx, c.id, current);
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
