import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { cases } from './cases.js';
import { createdAt, id, ts } from './columns.js';
import {
  dsrResolution,
  dsrStatus,
  dsrType,
  holdReason,
  outreachDisclosure,
  platform,
  referralConsent,
  referralStatus,
  referralTarget,
} from './enums.js';
import { programs } from './programs.js';

/** Legal holds: a held case is skipped by retention and refused erasure. Active while not released and not past `until`. */
export const caseHolds = pgTable(
  'case_holds',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    reason: holdReason('reason').notNull(),
    until: ts('until'),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    releasedAt: ts('released_at'),
    releasedBy: uuid('released_by'),
  },
  (t) => [
    index('case_holds_case_idx').on(t.caseId).where(sql`${t.releasedAt} is null`),
    index('case_holds_program_idx').on(t.programId, t.createdAt),
  ],
);

/**
 * Data-subject requests. The subject is named by platform and a keyed hash of the normalised
 * handle (the suppression list's hash): never a handle, never a case id.
 */
export const dsrRequests = pgTable(
  'dsr_requests',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    type: dsrType('type').notNull(),
    status: dsrStatus('status').notNull().default('open'),
    platform: platform('platform').notNull(),
    subjectHash: text('subject_hash').notNull(),
    receivedAt: ts('received_at').notNull(),
    dueAt: ts('due_at').notNull(),
    extendedUntil: ts('extended_until'),
    extensionReason: text('extension_reason'),
    /** The subject was on the suppression list when the request came in (erased earlier). */
    suppressed: boolean('suppressed').notNull().default(false),
    note: text('note'),
    resolution: dsrResolution('resolution'),
    resolutionNote: text('resolution_note'),
    closedAt: ts('closed_at'),
    closedBy: uuid('closed_by'),
    dueSoonNotifiedAt: ts('due_soon_notified_at'),
    overdueNotifiedAt: ts('overdue_notified_at'),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('dsr_program_status_idx').on(t.programId, t.status, t.dueAt)],
);

/** The cases a request matched when it came in (erased ones included). */
export const dsrMatches = pgTable(
  'dsr_matches',
  {
    dsrId: uuid('dsr_id')
      .notNull()
      .references(() => dsrRequests.id),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
  },
  (t) => [uniqueIndex('dsr_matches_pk').on(t.dsrId, t.caseId)],
);

/** Disclosed accounts outreach is sent from: an organisation's or a named person's, never a persona. */
export const outreachAccounts = pgTable(
  'outreach_accounts',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    platform: platform('platform').notNull(),
    label: text('label').notNull(),
    disclosure: outreachDisclosure('disclosure').notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    retiredAt: ts('retired_at'),
  },
  (t) => [index('outreach_accounts_program_idx').on(t.programId, t.createdAt)],
);

/** Referrals to other services, with the consent behind them. `basis` and `note` are free text (erased with the case). */
export const referrals = pgTable(
  'referrals',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    to: referralTarget('to').notNull(),
    consent: referralConsent('consent').notNull(),
    basis: text('basis'),
    note: text('note'),
    status: referralStatus('status').notNull().default('pending'),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('referrals_case_idx').on(t.caseId, t.createdAt)],
);
