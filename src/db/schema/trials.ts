import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { Approach, TrialStratum } from '../../domain/vocabulary.js';
import { id, ts } from './columns.js';
import { trialStatus } from './enums.js';
import { programs } from './programs.js';

/** Approach trials: while one runs, each case's first assignment allocates it an arm (kept on the case). */
export const trials = pgTable(
  'trials',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    name: text('name').notNull(),
    arms: text('arms').array().$type<Approach[]>().notNull(),
    stratifyBy: text('stratify_by').array().$type<TrialStratum[]>().notNull(),
    status: trialStatus('status').notNull().default('running'),
    startedAt: ts('started_at').notNull(),
    startedBy: uuid('started_by').notNull(),
    stoppedAt: ts('stopped_at'),
    stoppedBy: uuid('stopped_by'),
  },
  (t) => [
    uniqueIndex('trials_one_running_idx').on(t.programId).where(sql`${t.status} = 'running'`),
    index('trials_program_idx').on(t.programId, t.startedAt),
  ],
);

/**
 * How many cases each stratum of a trial has allocated: the next allocation's position in the
 * stratum's sequence of permuted blocks. Taking it is an upsert, so it serialises a stratum's
 * allocations and commits or rolls back with the assignment.
 */
export const trialStrata = pgTable(
  'trial_strata',
  {
    trialId: uuid('trial_id')
      .notNull()
      .references(() => trials.id),
    stratum: text('stratum').notNull(),
    allocated: integer('allocated').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.trialId, t.stratum] })],
);
