import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { cases } from './cases.js';
import { createdAt, id } from './columns.js';
import { outcome, reviewConfidence, reviewKind } from './enums.js';

/** Independent reviews of a closed case's outcome, and a lead's adjudication of a disputed one. */
export const outcomeReviews = pgTable(
  'outcome_reviews',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    reviewerId: uuid('reviewer_id').notNull(),
    kind: reviewKind('kind').notNull().default('review'),
    outcome: outcome('outcome').notNull(),
    signals: text('signals').array().notNull(),
    confidence: reviewConfidence('confidence'),
    /** Free text: deleted by erasure and retention (the codes above are kept). */
    note: text('note'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('outcome_reviews_once_idx').on(t.caseId, t.reviewerId, t.kind),
    index('outcome_reviews_program_idx').on(t.programId, t.createdAt),
  ],
);
