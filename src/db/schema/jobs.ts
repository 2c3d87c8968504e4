import { integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** Last run of each scheduled job, for admins and readiness. */
export const jobRuns = pgTable('job_runs', {
  name: text('name').primaryKey(),
  lastStartedAt: ts('last_started_at'),
  lastFinishedAt: ts('last_finished_at'),
  lastStatus: text('last_status'),
  lastResult: jsonb('last_result'),
  runs: integer('runs').notNull().default(0),
});
