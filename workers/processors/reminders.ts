import { fireFollowUpDue, fireFollowUpOverdue, fireResponseSla, fireSafeguardingEscalation, type Fired } from '../../src/domain/reminders/fire.js';
import { enqueueRequests } from '../../src/queue/requests.js';
import type { Processor, WorkerDeps } from '../types.js';

async function after(deps: WorkerDeps, fired: Fired) {
  await enqueueRequests(deps.queues, deps.logger, fired.jobs);
  return { outcome: fired.outcome };
}

export const followUpDue: Processor<'reminders', 'follow-up-due'> = async (p, deps) =>
  after(deps, await fireFollowUpDue(deps.db, deps.clock, p.followUpId, p.version));

export const followUpOverdue: Processor<'reminders', 'follow-up-overdue'> = async (p, deps) =>
  after(deps, await fireFollowUpOverdue(deps.db, deps.clock, p.followUpId, p.version));

export const responseSla: Processor<'reminders', 'response-sla'> = async (p, deps) =>
  after(deps, await fireResponseSla(deps.db, deps.clock, p.touchpointId));

export const safeguardingEscalate: Processor<'reminders', 'safeguarding-escalate'> = async (p, deps) =>
  after(deps, await fireSafeguardingEscalation(deps.db, deps.clock, p.concernId, p.period));
