import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { cases } from './cases.js';
import { id, ts } from './columns.js';
import { concernStatus, severity } from './enums.js';

export const safeguardingConcerns = pgTable(
  'safeguarding_concerns',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    severity: severity('severity').notNull(),
    concern: text('concern'),
    actionTaken: text('action_taken'),
    status: concernStatus('status').notNull().default('open'),
    raisedBy: uuid('raised_by').notNull(),
    raisedAt: ts('raised_at').notNull().defaultNow(),
    acknowledgedBy: uuid('acknowledged_by'),
    acknowledgedAt: ts('acknowledged_at'),
    acknowledgeNote: text('acknowledge_note'),
    /** A dpo reviewed the concern's text for a subject access export (it is included only then). */
    dpoReviewedAt: ts('dpo_reviewed_at'),
    dpoReviewedBy: uuid('dpo_reviewed_by'),
    /** How many unacknowledged-periods have been escalated (each fires once). */
    escalations: integer('escalations').notNull().default(0),
  },
  (t) => [index('safeguarding_program_status_idx').on(t.programId, t.status, t.id), index('safeguarding_case_idx').on(t.caseId)],
);
