import { boolean, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns.js';
import { notificationKind } from './enums.js';

export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    staffId: uuid('staff_id').notNull(),
    programId: uuid('program_id'),
    kind: notificationKind('kind').notNull(),
    caseId: uuid('case_id'),
    /** The follow-up, concern or touchpoint the notification is about. */
    subjectId: uuid('subject_id'),
    /** One notification per (event, recipient): a replayed job cannot notify twice. */
    dedupeKey: text('dedupe_key').notNull(),
    /** case_assigned: the move left a handover note on the case. */
    hasHandoverNote: boolean('has_handover_note').notNull().default(false),
    createdAt: createdAt(),
    readAt: ts('read_at'),
    webhookDeliveredAt: ts('webhook_delivered_at'),
    webhookAttempts: integer('webhook_attempts').notNull().default(0),
  },
  (t) => [uniqueIndex('notifications_dedupe_idx').on(t.dedupeKey), index('notifications_staff_idx').on(t.staffId, t.id)],
);
