import { index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns.js';

export const programs = pgTable('programs', {
  id: id(),
  name: text('name').notNull(),
  /** Only the settings a program overrode; defaults are applied when read. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  webhookSecret: text('webhook_secret'),
  /** 1 at creation, +1 each change of settings (GET /v1/programs/{id}/settings-history). */
  settingsVersion: integer('settings_version').notNull().default(1),
  version: integer('version').notNull().default(1),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Every change of a program's settings: which keys, from what to what, by whom. */
export const programSettingsHistory = pgTable(
  'program_settings_history',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    version: integer('version').notNull(),
    changedAt: ts('changed_at').notNull(),
    changedBy: uuid('changed_by'),
    changes: jsonb('changes').$type<Record<string, { from: unknown; to: unknown }>>().notNull(),
  },
  (t) => [index('program_settings_history_idx').on(t.programId, t.version)],
);
