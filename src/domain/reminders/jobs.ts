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
