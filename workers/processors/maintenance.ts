import { recordJobRun } from '../../src/domain/jobs/runs.js';
import type { ProgramsOutcome } from '../../src/domain/programs/each.js';
import { reconcile as reconcileDue, scanNoContact } from '../../src/domain/reminders/scan.js';
import { rollupEachProgram } from '../../src/domain/reports/rollup.js';
import { applyRetention } from '../../src/domain/retention/policy.js';
import { run, SYSTEM } from '../../src/domain/unit-of-work.js';
import { scanSupervision } from '../../src/domain/welfare/scan.js';
import { redactedMessage } from '../../src/logger.js';
import type { Processor, WorkerDeps } from '../types.js';

/** Records each scheduled job's last run, for admins and readiness. */
async function recorded<T extends Record<string, unknown>>(deps: WorkerDeps, name: string, job: () => Promise<T>): Promise<T> {
  const started = deps.clock.now();
  let status = 'ok';
  let result: T | undefined;
  try {
    result = await job();
    return result;
  } catch (err) {
    status = `failed: ${redactedMessage(err).slice(0, 200)}`;
    throw err;
  } finally {
    const finished = deps.clock.now();
    const values = { lastStartedAt: started, lastFinishedAt: finished, lastStatus: status, lastResult: result ?? null };
    await recordJobRun(deps.db, name, values).catch((err: Error) => deps.logger.warn({ err, job: name }, 'could not record job run'));
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
    // 'autocommit': each reminder found fires in its own statement or transaction; the jobs go out after the scan.
    const { programs, ...counts } = await run(deps, SYSTEM, 'autocommit', async (uow) => {
      const { jobs, ...found } = await reconcileDue(uow.tx, uow.clock);
      uow.enqueue(...jobs);
      return found;
    });
    return { ...counts, ...reported(deps, 'reconcile', programs) };
  });

export const noContactScan: Processor<'maintenance', 'no-contact-scan'> = async (_p, deps) =>
  recorded(deps, 'no-contact-scan', async () => {
    const { alerted, programs } = await run(deps, SYSTEM, 'autocommit', async (uow) => {
      const { jobs, ...found } = await scanNoContact(uow.tx, uow.clock);
      uow.enqueue(...jobs);
      return found;
    });
    return { alerted, ...reported(deps, 'no-contact-scan', programs) };
  });

/** Supervision short in the period that ended last: the intervener and the leads hear of it once. */
export const supervisionScan: Processor<'maintenance', 'supervision-scan'> = async (_p, deps) =>
  recorded(deps, 'supervision-scan', async () => {
    const { notified, programs } = await run(deps, SYSTEM, 'autocommit', async (uow) => {
      const { jobs, ...found } = await scanSupervision(uow.tx, uow.clock);
      uow.enqueue(...jobs);
      return found;
    });
    return { notified, ...reported(deps, 'supervision-scan', programs) };
  });

/** Incremental: applies only the cases marked dirty since the last pass. */
export const rollup: Processor<'maintenance', 'rollup'> = async (_p, deps) =>
  recorded(deps, 'rollup', async () => {
    const { processed, programs } = await run(deps, SYSTEM, 'autocommit', (uow) => rollupEachProgram(uow.tx));
    // Settings play no part in the rollup: only failures are worth a line.
    return { processed, ...reported(deps, 'rollup', { ...programs, defaulted: [] }) };
  });

/** Each program's retention periods; batched and safe on two workers at once. */
export const retention: Processor<'maintenance', 'retention'> = async (_p, deps) =>
  recorded(deps, 'retention', async () => {
    const { erased, programs } = await run(deps, SYSTEM, 'autocommit', (uow) => applyRetention(uow.tx, uow.clock.now()));
    return { erased, ...reported(deps, 'retention', programs) };
  });
