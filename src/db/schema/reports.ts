import { bigint, date, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** Cases whose report figures changed since the last rollup pass (filled by a trigger on cases). */
export const rollupDirty = pgTable(
  'rollup_dirty',
  {
    caseId: uuid('case_id').primaryKey(),
    programId: uuid('program_id').notNull(),
    markedAt: ts('marked_at').notNull().defaultNow(),
  },
  (t) => [index('rollup_dirty_program_idx').on(t.programId, t.markedAt)],
);

/** What each case currently adds to the rollups, so a change is applied as an exact delta. */
export const rollupContrib = pgTable('rollup_contrib', {
  caseId: uuid('case_id').primaryKey(),
  programId: uuid('program_id').notNull(),
  contrib: jsonb('contrib').notNull(),
});

/** Funnel counts per program × flag day × grouping; reports sum these over the window. */
export const engagementRollup = pgTable(
  'engagement_rollup',
  {
    programId: uuid('program_id').notNull(),
    dimension: text('dimension').notNull(),
    groupKey: text('group_key').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    flagged: integer('flagged').notNull().default(0),
    accepted: integer('accepted').notNull().default(0),
    contacted: integer('contacted').notNull().default(0),
    responded: integer('responded').notNull().default(0),
    sustained: integer('sustained').notNull().default(0),
    positive: integer('positive').notNull().default(0),
    costCents: bigint('cost_cents', { mode: 'number' }).notNull().default(0),
    /** Confirmed or adjudicated as positive_change (what `positive` reports under outcome review). */
    reviewedPositive: integer('reviewed_positive').notNull().default(0),
    /** Closed cases whose outcome still waits for review (provisional or disputed, not erased). */
    pendingReview: integer('pending_review').notNull().default(0),
    /** Cases with a referral. */
    referred: integer('referred').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.programId, t.dimension, t.day, t.groupKey] })],
);

/** Seconds from first contact to first response, per responded case and grouping (for exact medians). */
export const engagementResponse = pgTable(
  'engagement_response',
  {
    caseId: uuid('case_id').notNull(),
    programId: uuid('program_id').notNull(),
    dimension: text('dimension').notNull(),
    groupKey: text('group_key').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    seconds: integer('seconds').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.caseId, t.dimension, t.groupKey] }),
    // The group and seconds ride in the index so the medians' window read is an index-only scan
    // (no heap page per responded case; measured in bench/RESULTS.md, issue 20 §8).
    index('engagement_response_window_idx').on(t.programId, t.dimension, t.day, t.groupKey, t.seconds),
  ],
);

/** Contacted / responded / sustained events per program and event day (the trend). */
export const engagementEvents = pgTable(
  'engagement_events',
  {
    programId: uuid('program_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    contacted: integer('contacted').notNull().default(0),
    responded: integer('responded').notNull().default(0),
    sustained: integer('sustained').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.programId, t.day] })],
);
