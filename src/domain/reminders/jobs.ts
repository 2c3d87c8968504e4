import type { Tx } from '../../db/client.js';
import { jobIds } from '../../queue/jobs.js';
import type { JobRequest } from '../context.js';
import { loadSettings, ms, type ProgramSettings } from '../programs/settings.js';

/** The delayed job that makes a follow-up `due` (superseded by any later version). */
export function followUpDueJob(f: { id: string; version: number; dueAt: Date }, now: Date): JobRequest<'reminders'> {
  return {
    queue: 'reminders',
    name: 'follow-up-due',
    payload: { followUpId: f.id, version: f.version },
    jobId: jobIds.followUpDue(f.id, f.version),
    delayMs: f.dueAt.getTime() - now.getTime(),
  };
}

export function followUpOverdueJob(
  f: { id: string; version: number; dueAt: Date },
  settings: ProgramSettings,
  now: Date,
): JobRequest<'reminders'> {
  return {
    queue: 'reminders',
    name: 'follow-up-overdue',
    payload: { followUpId: f.id, version: f.version },
    jobId: jobIds.followUpOverdue(f.id, f.version),
    delayMs: f.dueAt.getTime() + ms(settings, 'overdueGrace') - now.getTime(),
  };
}

/**
 * The width of an overdue sweep's bucket: a tenth of the grace, between 1 s and 60 s. A follow-up
 * is escalated at most that long after dueAt + overdueGrace (60 s of the default PT24H; the
 * reconcile job, the safety net, runs every 60 s as well).
 */
export function sweepWidthMs(graceMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(graceMs / 10)));
}

/**
 * The sweep that escalates a fired follow-up once its grace has run out: one job per program and
 * bucket of overdue times, not one per follow-up, so that a burst of due reminders adds a job a
 * second (or a minute) instead of one each (bench/RESULTS.md, issue 20 §8).
 */
export function overdueSweepJob(f: { programId: string; dueAt: Date }, settings: ProgramSettings, now: Date): JobRequest<'reminders'> {
  const width = sweepWidthMs(ms(settings, 'overdueGrace'));
  const at = Math.ceil((f.dueAt.getTime() + ms(settings, 'overdueGrace')) / width) * width;
  return {
    queue: 'reminders',
    name: 'follow-up-overdue-sweep',
    payload: { programId: f.programId, at },
    jobId: jobIds.followUpOverdueSweep(f.programId, at),
    delayMs: at - now.getTime(),
  };
}

export function responseSlaJob(t: { id: string; occurredAt: Date }, settings: ProgramSettings, now: Date): JobRequest<'reminders'> {
  return {
    queue: 'reminders',
    name: 'response-sla',
    payload: { touchpointId: t.id },
    jobId: jobIds.responseSla(t.id),
    delayMs: t.occurredAt.getTime() + ms(settings, 'responseSla') - now.getTime(),
  };
}

export function safeguardingJob(
  c: { id: string; raisedAt: Date },
  period: number,
  settings: ProgramSettings,
  now: Date,
): JobRequest<'reminders'> {
  return {
    queue: 'reminders',
    name: 'safeguarding-escalate',
    payload: { concernId: c.id, period },
    jobId: jobIds.safeguarding(c.id, period),
    delayMs: c.raisedAt.getTime() + period * ms(settings, 'safeguardingAckWithin') - now.getTime(),
  };
}

/** Webhook deliveries for new notifications, when the program has a staff webhook. */
export async function webhookJobs(tx: Tx, programId: string | null, notificationIds: string[]): Promise<JobRequest<'webhooks'>[]> {
  if (!programId || notificationIds.length === 0) return [];
  return webhookJobsFor(await loadSettings(tx, programId), notificationIds);
}

/** The same, for a caller that has the program's settings already. */
export function webhookJobsFor(settings: ProgramSettings, notificationIds: string[]): JobRequest<'webhooks'>[] {
  if (!settings.staffWebhookUrl) return [];
  return notificationIds.map((id) => ({ queue: 'webhooks', name: 'deliver', payload: { notificationId: id }, jobId: jobIds.webhook(id) }));
}
