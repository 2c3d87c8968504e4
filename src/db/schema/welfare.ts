import { index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns.js';
import { debriefReason, debriefStatus, supervisionFormat, timeActivity } from './enums.js';
import { programs } from './programs.js';
import { staff } from './staff.js';

/** Welfare data is about staff, not subjects: seen only by the person and their program's leads. */

/** Time an intervener spent with hostile content outside a touchpoint (counts toward weekly exposure). */
export const timeLogs = pgTable(
  'time_logs',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    at: ts('at').notNull(),
    minutes: integer('minutes').notNull(),
    activity: timeActivity('activity').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('time_logs_staff_at_idx').on(t.staffId, t.at)],
);

/** A debrief owed to an intervener after a distressing event; one per triggering event. */
export const debriefs = pgTable(
  'debriefs',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    caseId: uuid('case_id'),
    reason: debriefReason('reason').notNull(),
    /** The touchpoint, concern or closed case that triggered it: with the reason, unique. */
    sourceId: uuid('source_id').notNull(),
    dueAt: ts('due_at').notNull(),
    status: debriefStatus('status').notNull().default('pending'),
    doneAt: ts('done_at'),
    doneBy: uuid('done_by'),
    /** Free text about a member of staff: seen by them and their leads only. */
    note: text('note'),
    overdueNotifiedAt: ts('overdue_notified_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('debriefs_source_idx').on(t.reason, t.sourceId, t.staffId),
    index('debriefs_program_status_idx').on(t.programId, t.status, t.dueAt),
    index('debriefs_staff_idx').on(t.staffId, t.status),
  ],
);

/** Supervision sessions a lead records for a member of staff. */
export const supervisionSessions = pgTable(
  'supervision_sessions',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    at: ts('at').notNull(),
    minutes: integer('minutes').notNull(),
    format: supervisionFormat('format').notNull(),
    recordedBy: uuid('recorded_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('supervision_sessions_staff_at_idx').on(t.staffId, t.at)],
);
