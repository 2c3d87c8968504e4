import { sql } from 'drizzle-orm';
import { jobRuns } from '../../src/db/schema/index.js';
import { reconcile as reconcileDue, scanNoContact } from '../../src/domain/reminders/scan.js';
import { rollupAll } from '../../src/domain/reports/rollup.js';
import { applyRetention } from '../../src/domain/retention/erase.js';
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
    status = `failed: ${(err as Error).message.slice(0, 200)}`;
    throw err;
  } finally {
    const finished = deps.clock.now();
    const values = { lastStartedAt: started, lastFinishedAt: finished, lastStatus: status, lastResult: result ?? null };
    await deps.db
      .insert(jobRuns)
      .values({ name, ...values, runs: 1 })
      .onConflictDoUpdate({ target: jobRuns.name, set: { ...values, runs: sql`${jobRuns.runs} + 1` } })
      .catch((err: Error) => deps.logger.warn({ err: err.message, job: name }, 'could not record job run'));
  }
}

export const heartbeat: Processor<'maintenance', 'heartbeat'> = async (_p, deps) =>
  recorded(deps, 'heartbeat', async () => ({ at: deps.clock.now().toISOString() }));

export const reconcile: Processor<'maintenance', 'reconcile'> = async (_p, deps) =>
  recorded(deps, 'reconcile', async () => {
    const { jobs, ...counts } = await reconcileDue(deps.db, deps.clock);
    await enqueueRequests(deps.queues, deps.logger, jobs);
    return counts;
  });

export const noContactScan: Processor<'maintenance', 'no-contact-scan'> = async (_p, deps) =>
  recorded(deps, 'no-contact-scan', async () => {
    const { jobs, alerted } = await scanNoContact(deps.db, deps.clock);
    await enqueueRequests(deps.queues, deps.logger, jobs);
    return { alerted };
  });

/** Incremental: applies only the cases marked dirty since the last pass. */
export const rollup: Processor<'maintenance', 'rollup'> = async (_p, deps) => recorded(deps, 'rollup', () => rollupAll(deps.db));

/** Each program's retention periods; batched and safe on two workers at once. */
export const retention: Processor<'maintenance', 'retention'> = async (_p, deps) =>
  recorded(deps, 'retention', () => applyRetention(deps.db, deps.clock.now()));
