import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { cases } from '../../db/schema/index.js';
import { jobIds } from '../../queue/jobs.js';
import type { Clock } from '../clock.js';
import type { JobRequest } from '../context.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { eachProgram, type ProgramsOutcome } from '../programs/each.js';
import { ms } from '../programs/settings.js';
import { fireFollowUpDue, fireFollowUpOverdue, fireResponseSla, fireSafeguardingEscalation, type Fired } from './fire.js';
import { webhookJobs } from './jobs.js';

const BATCH = 500;

/**
 * Parameter `$n`, a duration setting in milliseconds, as an interval: resolved (and bounded) in
 * JavaScript, never spliced into the SQL text, and as exact as the JavaScript side's check.
 */
const interval = (n: number) => `($${n}::float8 * interval '1 millisecond')`;

interface QuietCase {
  id: string;
  program_id: string;
  assignee_id: string | null;
  spell_start: Date;
}

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
    const { rows } = await db.$client.query<QuietCase>(
      `select c.id, c.program_id, c.assignee_id, s.spell_start
         from cases c
         cross join lateral (
           select coalesce(c.last_touchpoint_at, (select max(a.started_at) from assignments a where a.case_id = c.id), c.flagged_at) as spell_start
         ) s
        where c.program_id = $2 and c.status = 'active'
          and s.spell_start <= $1::timestamptz - ${interval(3)}
          and (c.no_contact_alerted_at is null or c.no_contact_alerted_at < s.spell_start)
        order by c.id
        limit ${BATCH}`,
      [now, program.id, ms(program.settings, 'noContactAlertAfter')],
    );
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
    const claimed = await tx
      .update(cases)
      .set({ noContactAlertedAt: r.spell_start })
      .where(and(eq(cases.id, r.id), or(isNull(cases.noContactAlertedAt), lt(cases.noContactAlertedAt, r.spell_start))))
      .returning({ id: cases.id });
    if (claimed.length === 0) return undefined;
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
    webhooksRequeued: 0,
    jobs: [],
  };
  const collect = (fired: Fired) => {
    // Early jobs are the fast path's business; only record what actually needs doing.
    if (fired.outcome === 'fired') result.jobs.push(...fired.jobs);
    return fired.outcome === 'fired' ? 1 : 0;
  };

  const programs = await eachProgram(db, async ({ id: programId, settings }) => {
    const q = <T extends Record<string, unknown>>(text: string, ...more: unknown[]) =>
      db.$client.query<T>(text, [now, programId, ...more]).then((r) => r.rows);

    // Overdue first: it also delivers a missed `due`, in order.
    for (const r of await q<{ id: string; version: number }>(
      `select id, version from follow_ups
        where program_id = $2 and status in ('pending', 'due') and due_at <= $1::timestamptz - ${interval(3)}
        order by due_at limit ${BATCH}`,
      ms(settings, 'overdueGrace'),
    )) {
      result.followUpsOverdue += collect(await fireFollowUpOverdue(db, clock, r.id, r.version));
    }
    for (const r of await q<{ id: string; version: number }>(
      `select id, version from follow_ups where program_id = $2 and status = 'pending' and due_at <= $1 order by due_at limit ${BATCH}`,
    )) {
      result.followUpsDue += collect(await fireFollowUpDue(db, clock, r.id, r.version));
    }
    for (const r of await q<{ id: string }>(
      `select id from touchpoints
        where program_id = $2 and awaiting_response and occurred_at <= $1::timestamptz - ${interval(3)}
        order by occurred_at limit ${BATCH}`,
      ms(settings, 'responseSla'),
    )) {
      result.responsesOverdue += collect(await fireResponseSla(db, clock, r.id));
    }
    for (const r of await q<{ id: string; escalations: number }>(
      `select id, escalations from safeguarding_concerns
        where program_id = $2 and status = 'open' and raised_at + (escalations + 1) * ${interval(3)} <= $1
        order by raised_at limit ${BATCH}`,
      ms(settings, 'safeguardingAckWithin'),
    )) {
      result.safeguardingEscalated += collect(await fireSafeguardingEscalation(db, clock, r.id, r.escalations + 1));
    }
    if (!settings.staffWebhookUrl) return;
    for (const r of await q<{ id: string }>(
      `select id from notifications
        where program_id = $2 and webhook_delivered_at is null and webhook_attempts < 10
          and created_at > $1::timestamptz - interval '1 day' and created_at < $1::timestamptz - interval '1 minute'
        order by id limit ${BATCH}`,
    )) {
      result.webhooksRequeued++;
      result.jobs.push({ queue: 'webhooks', name: 'deliver', payload: { notificationId: r.id }, jobId: jobIds.webhook(r.id) });
    }
  });
  return { ...result, programs };
}
