import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { jobRuns } from '../../db/schema/index.js';

/** One finished run of a scheduled job; `status` is `ok` or `failed: <redacted message>`. */
export interface JobRun {
  lastStartedAt: Date;
  lastFinishedAt: Date;
  lastStatus: string;
  lastResult: unknown;
}

/** The only writer of job_runs: each scheduled job's last run and how many there were, for admins and readiness. */
export async function recordJobRun(db: Tx, name: string, run: JobRun): Promise<void> {
  await db
    .insert(jobRuns)
    .values({ name, ...run, runs: 1 })
    .onConflictDoUpdate({ target: jobRuns.name, set: { ...run, runs: sql`${jobRuns.runs} + 1` } });
}
