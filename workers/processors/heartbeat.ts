import { sql } from 'drizzle-orm';
import { jobRuns } from '../../src/db/schema/index.js';
import type { Processor } from '../types.js';

/** Proves a worker is alive on this backend; readiness and admins read job_runs. */
export const heartbeat: Processor<'maintenance', 'heartbeat'> = async (_payload, deps) => {
  const now = deps.clock.now();
  await deps.db
    .insert(jobRuns)
    .values({ name: 'heartbeat', lastStartedAt: now, lastFinishedAt: now, lastStatus: 'ok', runs: 1 })
    .onConflictDoUpdate({
      target: jobRuns.name,
      set: { lastStartedAt: now, lastFinishedAt: now, lastStatus: 'ok', runs: sql`${jobRuns.runs} + 1` },
    });
  return { at: now.toISOString() };
};
