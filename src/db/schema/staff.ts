import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns.js';
import { staffRole } from './enums.js';
import { programs } from './programs.js';

export const staff = pgTable(
  'staff',
  {
    id: id(),
    /** Null only for deployment admins. */
    programId: uuid('program_id').references(() => programs.id),
    name: text('name').notNull(),
    role: staffRole('role').notNull(),
    specialisms: text('specialisms').array().notNull().default(sql`'{}'::text[]`),
    languages: text('languages').array().notNull().default(sql`'{}'::text[]`),
    maxCaseload: integer('max_caseload'),
    /** Ideologies whose cases this person opted out of (welfare): left out of candidates, refused at assignment without an override. */
    avoid: text('avoid').array().notNull().default(sql`'{}'::text[]`),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('staff_program_role_idx').on(t.programId, t.role)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    label: text('label').notNull(),
    /** HMAC-SHA256 of the token keyed with OVERTURE_SECRET; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash), index('api_tokens_staff_idx').on(t.staffId)],
);

/**
 * Queue-board sign-in sessions: the cookie carries a random id, only its keyed hash is stored,
 * and a session ends when it expires, its token is revoked or its admin is deactivated.
 */
export const boardSessions = pgTable(
  'board_sessions',
  {
    /** HMAC-SHA256 of the session id keyed with OVERTURE_SECRET. */
    idHash: text('id_hash').primaryKey(),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    tokenId: uuid('token_id')
      .notNull()
      .references(() => apiTokens.id),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('board_sessions_expires_idx').on(t.expiresAt)],
);

/**
 * A staff member away for [from, to): left out of candidates, and their active cases are worked
 * by the cover (or, with none, their notifications go to the program's leads) for exactly that
 * period. Deleting one ends it (deletedAt), keeping the record.
 */
export const absences = pgTable(
  'absences',
  {
    id: id(),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    programId: uuid('program_id').notNull(),
    from: ts('from').notNull(),
    to: ts('to').notNull(),
    coverId: uuid('cover_id').references(() => staff.id),
    reason: text('reason'),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('absences_staff_idx').on(t.staffId, t.to), index('absences_cover_idx').on(t.coverId, t.to)],
);
