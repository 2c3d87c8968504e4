import {
  type Fired,
  fireFollowUpDue,
  fireFollowUpOverdue,
  fireOverdueSweep,
  fireResponseSla,
  fireSafeguardingEscalation,
} from '../../src/domain/reminders/fire.js';
import { run, SYSTEM, type SystemUnit } from '../../src/domain/unit-of-work.js';
import { fireDebriefOverdue } from '../../src/domain/welfare/scan.js';
import type { Processor } from '../types.js';

// 'autocommit': each reminder's usual case is one statement; its other paths open their own transaction.
function enqueued(uow: SystemUnit, fired: Fired) {
  uow.enqueue(...fired.jobs);
  return { outcome: fired.outcome };
}

export const followUpDue: Processor<'reminders', 'follow-up-due'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', async (uow) => enqueued(uow, await fireFollowUpDue(uow.tx, uow.clock, p.followUpId, p.version)));

export const followUpOverdue: Processor<'reminders', 'follow-up-overdue'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', async (uow) => enqueued(uow, await fireFollowUpOverdue(uow.tx, uow.clock, p.followUpId, p.version)));

export const followUpOverdueSweep: Processor<'reminders', 'follow-up-overdue-sweep'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', async (uow) => enqueued(uow, await fireOverdueSweep(uow.tx, uow.clock, p.programId)));

export const responseSla: Processor<'reminders', 'response-sla'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', async (uow) => enqueued(uow, await fireResponseSla(uow.tx, uow.clock, p.touchpointId)));

export const safeguardingEscalate: Processor<'reminders', 'safeguarding-escalate'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', async (uow) => enqueued(uow, await fireSafeguardingEscalation(uow.tx, uow.clock, p.concernId, p.period)));

export const debriefOverdue: Processor<'reminders', 'debrief-overdue'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', async (uow) => enqueued(uow, await fireDebriefOverdue(uow.tx, uow.clock, p.debriefId)));
