import { jobIds } from '../../queue/jobs.js';
import type { JobRequest } from '../context.js';

/** The delayed job that tells the leads, at dueAt, of a debrief still pending (once: the claim decides). */
export function debriefOverdueJob(d: { id: string; dueAt: Date }, now: Date): JobRequest<'reminders'> {
  return {
    queue: 'reminders',
    name: 'debrief-overdue',
    payload: { debriefId: d.id },
    jobId: jobIds.debriefOverdue(d.id),
    delayMs: d.dueAt.getTime() - now.getTime(),
  };
}
