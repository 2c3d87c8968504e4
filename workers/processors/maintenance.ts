import { sql } from 'drizzle-orm';
import { jobRuns } from '../../src/db/schema/index.js';
import { reconcile as reconcileDue, scanNoContact } from '../../src/domain/reminders/scan.js';
import type { ProgramsOutcome } from '../../src/domain/programs/each.js';
import { rollupEachProgram } from '../../src/domain/reports/rollup.js';
import { applyRetention } from '../../src/domain/retention/policy.js';
import { redactedMessage } from '../../src/logger.js';
import { enqueueRequests } from '../../src/queue/requests.js';
import type { Processor, WorkerDeps } from '../types.js';

/** Records each scheduled job's last run, for admins and readiness. */
async function recorded<T extends Record<string, unknown>>(deps: WorkerDeps, name: string, run: () => Promise<T>): Promise<T> {
  const started = deps.clock.now();
  let status = 'ok';
  let result: T | undefined;
  try {
    result = await run();
    return result;
  } catch (err) {
    status = `failed: ${redactedMessage(err).slice(0, 200)}`;
    throw err;
  } finally {
    const finished = deps.clock.now();
    const values = { lastStartedAt: started, lastFinishedAt: finished, lastStatus: status, lastResult: result ?? null };
    await deps.db
      .insert(jobRuns)
      .values({ name, ...values, runs: 1 })
      .onConflictDoUpdate({ target: jobRuns.name, set: { ...values, runs: sql`${jobRuns.runs} + 1` } })
      .catch((err: Error) => deps.logger.warn({ err, job: name }, 'could not record job run'));
  }
}

/**
 * Logs, by program id, what a job that loops over programs met; the run's recorded result names
 * the programs that failed (ids only: errors can carry the values of a statement).
 */
function reported(deps: WorkerDeps, job: string, outcome: ProgramsOutcome): { failedPrograms: string[] } {
  for (const { programId, keys } of outcome.defaulted) {
    deps.logger.warn({ job, programId, keys }, 'stored program settings no longer valid; their defaults were used');
  }
  for (const { programId, err } of outcome.failed) {
    deps.logger.warn({ job, programId, err }, "a program's part of the job failed; the other programs ran");
  }
  return { failedPrograms: outcome.failed.map((f) => f.programId) };
}

export const heartbeat: Processor<'maintenance', 'heartbeat'> = async (_p, deps) =>
  recorded(deps, 'heartbeat', async () => ({ at: deps.clock.now().toISOString() }));

export const reconcile: Processor<'maintenance', 'reconcile'> = async (_p, deps) =>
  recorded(deps, 'reconcile', async () => {
    const { jobs, programs, ...counts } = await reconcileDue(deps.db, deps.clock);
    await enqueueRequests(deps.queues, deps.logger, jobs);
    return { ...counts, ...reported(deps, 'reconcile', programs) };
  });

export const noContactScan: Processor<'maintenance', 'no-contact-scan'> = async (_p, deps) =>
  recorded(deps, 'no-contact-scan', async () => {
    const { jobs, alerted, programs } = await scanNoContact(deps.db, deps.clock);
    await enqueueRequests(deps.queues, deps.logger, jobs);
    return { alerted, ...reported(deps, 'no-contact-scan', programs) };
  });

/** Incremental: applies only the cases marked dirty since the last pass. */
export const rollup: Processor<'maintenance', 'rollup'> = async (_p, deps) =>
  recorded(deps, 'rollup', async () => {
    const { processed, programs } = await rollupEachProgram(deps.db);
    // Settings play no part in the rollup: only failures are worth a line.
    return { processed, ...reported(deps, 'rollup', { ...programs, defaulted: [] }) };
  });

/** Each program's retention periods; batched and safe on two workers at once. */
export const retention: Processor<'maintenance', 'retention'> = async (_p, deps) =>
  recorded(deps, 'retention', async () => {
    const { erased, programs } = await applyRetention(deps.db, deps.clock.now());
    return { erased, ...reported(deps, 'retention', programs) };
  });
