import type { Db } from '../../db/client.js';
import { claimNoContactAlert, type QuietCase, quietActiveCases } from '../cases/store.js';
import type { Clock } from '../clock.js';
import type { JobRequest } from '../context.js';
import { notifyDsrDeadlines } from '../dsr/service.js';
import { dueFollowUps } from '../followups/store.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { undeliveredWebhooks } from '../notifications/store.js';
import { eachProgram, type ProgramsOutcome } from '../programs/each.js';
import { ms } from '../programs/settings.js';
import { escalationsDue } from '../safeguarding/store.js';
import { awaitingResponseSince } from '../touchpoints/store.js';
import { fireDebriefOverdue } from '../welfare/scan.js';
import { overdueDebriefIds } from '../welfare/store.js';
import { escalateOverdue, type Fired, fireFollowUpDue, fireResponseSla, fireSafeguardingEscalation } from './fire.js';
import { webhookJobs, webhookJobsFor } from './jobs.js';

const BATCH = 500;

/**
 * Active cases quiet for noContactAlertAfter: the holder and the leads are told once per quiet
 * spell. A spell starts at the last touchpoint (or, with none, the latest assignment). Each
 * program is scanned on its own; one that fails is in `programs.failed`, the others go on.
 */
export async function scanNoContact(db: Db, clock: Clock): Promise<{ alerted: number; jobs: JobRequest[]; programs: ProgramsOutcome }> {
  const now = clock.now();
  const jobs: JobRequest[] = [];
  let alerted = 0;
  const programs = await eachProgram(db, async (program) => {
    const rows = await quietActiveCases(db, program.id, now, ms(program.settings, 'noContactAlertAfter'), BATCH);
    for (const r of rows) {
      const fired = await alertNoContact(db, r);
      if (!fired) continue;
      alerted++;
      jobs.push(...fired);
    }
  });
  return { alerted, jobs, programs };
}

/** One quiet spell's alert, claimed so that it goes out once; undefined when another run has it. */
async function alertNoContact(db: Db, r: QuietCase): Promise<JobRequest[] | undefined> {
  return db.transaction(async (tx) => {
    if (!(await claimNoContactAlert(tx, r.id, r.spell_start))) return undefined;
    const recipients = [...(r.assignee_id ? [r.assignee_id] : []), ...(await leadsOf(tx, r.program_id))];
    const ids = await notify(tx, recipients, {
      kind: 'no_contact',
      programId: r.program_id,
      caseId: r.id,
      subjectId: r.id,
      occurrence: `${r.id}-${r.spell_start.toISOString()}`,
    });
    return webhookJobs(tx, r.program_id, ids);
  });
}

export interface ReconcileResult {
  followUpsDue: number;
  followUpsOverdue: number;
  responsesOverdue: number;
  safeguardingEscalated: number;
  debriefsOverdue: number;
  dsrDueSoon: number;
  dsrOverdue: number;
  webhooksRequeued: number;
  jobs: JobRequest[];
  programs: ProgramsOutcome;
}

/**
 * The safety net: whatever PostgreSQL says is due but no job handled (enqueue failed after
 * commit, Redis flushed or down) is handled now, through the same at-most-once functions. Each
 * program is reconciled on its own; one that fails is in `programs.failed`, the others go on.
 */
export async function reconcile(db: Db, clock: Clock): Promise<ReconcileResult> {
  const now = clock.now();
  const result: Omit<ReconcileResult, 'programs'> = {
    followUpsDue: 0,
    followUpsOverdue: 0,
    responsesOverdue: 0,
    safeguardingEscalated: 0,
    debriefsOverdue: 0,
    dsrDueSoon: 0,
    dsrOverdue: 0,
    webhooksRequeued: 0,
    jobs: [],
  };
  const collect = (fired: Fired) => {
    // Early jobs are the fast path's business; only record what actually needs doing.
    if (fired.outcome === 'fired') result.jobs.push(...fired.jobs);
    return fired.outcome === 'fired' ? 1 : 0;
  };

  const programs = await eachProgram(db, async ({ id: programId, settings }) => {
    // Overdue first: it also delivers a missed `due`, in order.
    for (const fired of await escalateOverdue(db, clock, programId, { now, graceMs: ms(settings, 'overdueGrace') }, BATCH)) {
      result.followUpsOverdue += collect(fired);
    }
    for (const r of await dueFollowUps(db, programId, ['pending'], { now, graceMs: 0 }, BATCH)) {
      result.followUpsDue += collect(await fireFollowUpDue(db, clock, r.id, r.version));
    }
    for (const id of await awaitingResponseSince(db, programId, now, ms(settings, 'responseSla'), BATCH)) {
      result.responsesOverdue += collect(await fireResponseSla(db, clock, id));
    }
    for (const r of await escalationsDue(db, programId, now, ms(settings, 'safeguardingAckWithin'), BATCH)) {
      result.safeguardingEscalated += collect(await fireSafeguardingEscalation(db, clock, r.id, r.escalations + 1));
    }
    for (const id of await overdueDebriefIds(db, programId, now, BATCH)) {
      result.debriefsOverdue += collect(await fireDebriefOverdue(db, clock, id));
    }
    const dsr = await notifyDsrDeadlines(db, clock, programId, settings);
    result.dsrDueSoon += dsr.dueSoon;
    result.dsrOverdue += dsr.overdue;
    result.jobs.push(...dsr.jobs);
    if (!settings.staffWebhookUrl) return;
    const undelivered = await undeliveredWebhooks(db, programId, now, BATCH);
    result.webhooksRequeued += undelivered.length;
    result.jobs.push(...webhookJobsFor(settings, undelivered));
  });
  return { ...result, programs };
}
