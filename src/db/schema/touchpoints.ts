import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { APPROACHES } from '../../domain/vocabulary.js';
import { cases } from './cases.js';
import { createdAt, id, ts } from './columns.js';
import { channel, direction, sentiment } from './enums.js';

export type Approach = (typeof APPROACHES)[number];

export const touchpoints = pgTable(
  'touchpoints',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    direction: direction('direction').notNull(),
    channel: channel('channel').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    approaches: text('approaches').array().$type<Approach[]>(),
    sentiment: sentiment('sentiment'),
    costCents: integer('cost_cents'),
    summary: text('summary'),
    /** Welfare: minutes the logger spent on it (counts toward their weekly exposure). */
    minutesSpent: integer('minutes_spent'),
    /** Welfare: the logger found it distressing (a debrief is owed). */
    distressing: boolean('distressing').notNull().default(false),
    /** The disclosed outreach account an outbound message was sent from. */
    outreachAccountId: uuid('outreach_account_id'),
    loggedBy: uuid('logged_by').notNull(),
    /** Who held the case when it was logged (reports credit stages to them). */
    holderId: uuid('holder_id'),
    /** Inbound only: no later outbound yet and no response-SLA reminder yet (reconcile scans these). */
    awaitingResponse: boolean('awaiting_response').notNull().default(false),
    /** Inbound only: when the response-SLA reminder fired (at most once). */
    responseOverdueNotifiedAt: ts('response_overdue_notified_at'),
    /** Logged in error: readable still, counted nowhere. */
    voidedAt: ts('voided_at'),
    voidedBy: uuid('voided_by'),
    voidReason: text('void_reason'),
    createdAt: createdAt(),
  },
  (t) => [
    index('touchpoints_case_idx').on(t.caseId, t.occurredAt, t.id),
    index('touchpoints_awaiting_idx').on(t.occurredAt).where(sql`${t.awaitingResponse}`),
    index('touchpoints_exposure_idx').on(t.loggedBy, t.occurredAt).where(sql`${t.minutesSpent} is not null`),
  ],
);
