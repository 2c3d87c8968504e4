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
 * An overdue sweep covers the follow-ups whose dueAt + overdueGrace falls in one second: it runs
 * at the end of that second, so a follow-up is escalated within a second of its time.
 */
export const SWEEP_BUCKET_MS = 1_000;

/** The end of the sweep bucket holding this moment. */
export function sweepAt(overdueAt: number): number {
  return Math.ceil(overdueAt / SWEEP_BUCKET_MS) * SWEEP_BUCKET_MS;
}

/**
 * The sweep that escalates a fired follow-up once its grace has run out: one job per program and
 * second of overdue times, not one per follow-up, so a burst of due reminders adds a job a second
 * instead of one each (bench/RESULTS.md, issue 20 §8). Marked `once`: each process adds it once.
 */
export function overdueSweepJob(programId: string, overdueAt: number, now: Date): JobRequest<'reminders'> {
  const at = sweepAt(overdueAt);
  return {
    queue: 'reminders',
    name: 'follow-up-overdue-sweep',
    payload: { programId, at },
    jobId: jobIds.followUpOverdueSweep(programId, at),
    delayMs: at - now.getTime(),
    once: true,
  };
}

/** How far ahead a sweep must still be for a follow-up to join it (clock skew between processes). */
const SWEEP_MARGIN_MS = 1_000;

/**
 * What escalates a follow-up that just fired: its second's sweep, or, when that second is (nearly)
 * past, its own job. A sweep that has already run keeps its id (BullMQ keeps finished jobs), so
 * asking for it again would add nothing: a late follow-up (reminders lagging by more than the
 * grace) gets a job of its own, which runs at once.
 */
export function overdueJobFor(
  f: { id: string; version: number; programId: string; dueAt: Date },
  settings: ProgramSettings,
  now: Date,
): JobRequest<'reminders'> {
  const overdueAt = f.dueAt.getTime() + ms(settings, 'overdueGrace');
  if (sweepAt(overdueAt) <= now.getTime() + SWEEP_MARGIN_MS) return followUpOverdueJob(f, settings, now);
  return overdueSweepJob(f.programId, overdueAt, now);
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
