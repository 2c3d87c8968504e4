import type { Db } from '../../db/client.js';
import type { Clock } from '../clock.js';
import type { JobRequest } from '../context.js';
import { leadsOf, type NotificationRequest, notify } from '../notifications/notify.js';
import { eachProgram, type ProgramsOutcome } from '../programs/each.js';
import { loadSettings, type ProgramSettings } from '../programs/settings.js';
import type { Fired } from '../reminders/fire.js';
import { webhookJobsFor } from '../reminders/jobs.js';
import { listStaffRows } from '../staff/store.js';
import { debriefOverdueJob } from './jobs.js';
import { parsePeriod, periodAt } from './period.js';
import { claimOverdueDebriefs, findDebrief, supervisionMinutes } from './store.js';

const BATCH = 500;

/**
 * At dueAt a debrief still pending is overdue: the program's active leads are told, once (the
 * claim marks it in the same transaction, whichever of the delayed job, a replay, a second
 * worker or the reconcile gets there first). A debrief done in time, or already told of, is stale.
 */
export async function fireDebriefOverdue(db: Db, clock: Clock, debriefId: string): Promise<Fired> {
  return db.transaction(async (tx) => {
    const now = clock.now();
    const [d] = await claimOverdueDebriefs(tx, now, 1, debriefId);
    if (!d) {
      // Not claimable: done, told of, being completed or claimed right now (locked), or not due yet.
      const found = await findDebrief(tx, debriefId);
      if (found?.status === 'pending' && !found.overdueNotifiedAt && found.dueAt > now) {
        return { outcome: 'early', jobs: [debriefOverdueJob(found, now)] };
      }
      return { outcome: 'stale', jobs: [] };
    }
    const settings = await loadSettings(tx, d.programId);
    const ids = await notify(tx, await leadsOf(tx, d.programId), {
      kind: 'debrief_overdue',
      programId: d.programId,
      caseId: d.caseId,
      subjectId: d.id,
      occurrence: d.id,
    });
    return { outcome: 'fired', jobs: webhookJobsFor(settings, ids) };
  });
}

/** The supervision period that ended last before `now` (the program's `supervisionEvery`). */
export function lastEndedPeriod(settings: ProgramSettings, now: Date): { start: Date; end: Date } {
  const period = parsePeriod(settings.supervisionEvery) ?? parsePeriod('P1M')!;
  const current = periodAt(period, now);
  return periodAt(period, new Date(current.start.getTime() - 1));
}

/**
 * For each program, the supervision period that ended last: every active intervener who had
 * fewer than supervisionMinMinutes in it hears of it (`supervision_due`, personal: never their
 * cover), and so do the program's leads, once per (intervener, period) whoever scans and however
 * often. A period that ended before the intervener was created is not theirs to be short in.
 * Each program is scanned on its own; one that fails is in `programs.failed`, the others go on.
 */
export async function scanSupervision(db: Db, clock: Clock): Promise<{ notified: number; jobs: JobRequest[]; programs: ProgramsOutcome }> {
  const now = clock.now();
  const jobs: JobRequest[] = [];
  let notified = 0;
  const programs = await eachProgram(db, async ({ id: programId, settings }) => {
    if (settings.supervisionMinMinutes <= 0) return;
    const period = lastEndedPeriod(settings, now);
    const leads = await leadsOf(db, programId);
    let after: string | undefined;
    for (;;) {
      const page = await listStaffRows(db, { programId, role: 'intervener', active: true, limit: BATCH, ...(after ? { after } : {}) });
      const rows = page.slice(0, BATCH);
      const eligible = rows.filter((s) => s.createdAt < period.end).map((s) => s.id);
      const minutes = await supervisionMinutes(db, eligible, period.start, period.end);
      for (const staffId of eligible) {
        if ((minutes.get(staffId) ?? 0) >= settings.supervisionMinMinutes) continue;
        const request: NotificationRequest = {
          kind: 'supervision_due',
          programId,
          caseId: null,
          subjectId: staffId,
          occurrence: `${staffId}/${period.start.toISOString()}`,
        };
        const ids = await db.transaction(async (tx) => [
          ...(await notify(tx, [staffId], { ...request, personal: true })),
          ...(await notify(tx, leads, request)),
        ]);
        if (ids.length === 0) continue;
        notified++;
        jobs.push(...webhookJobsFor(settings, ids));
      }
      if (page.length <= BATCH) break;
      after = rows.at(-1)!.id;
    }
  });
  return { notified, jobs, programs };
}
