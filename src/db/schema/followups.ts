import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { cases } from './cases.js';
import { createdAt, id, ts } from './columns.js';
import { followUpKind, followUpStatus } from './enums.js';

export const followUps = pgTable(
  'follow_ups',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    assigneeId: uuid('assignee_id'),
    dueAt: ts('due_at').notNull(),
    kind: followUpKind('kind').notNull(),
    note: text('note'),
    status: followUpStatus('status').notNull().default('pending'),
    /** Bumped by every reschedule; a delayed job carries the version it was made for. */
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by'),
    createdAt: createdAt(),
    completedAt: ts('completed_at'),
    cancelledAt: ts('cancelled_at'),
    dueNotifiedAt: ts('due_notified_at'),
    overdueNotifiedAt: ts('overdue_notified_at'),
  },
  (t) => [
    index('follow_ups_case_idx').on(t.caseId, t.status),
    index('follow_ups_assignee_idx').on(t.assigneeId, t.status, t.dueAt),
    index('follow_ups_status_due_idx').on(t.status, t.dueAt),
  ],
);
