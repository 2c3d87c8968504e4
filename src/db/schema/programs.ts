import { integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns.js';

export const programs = pgTable('programs', {
  id: id(),
  name: text('name').notNull(),
  /** Only the settings a program overrode; defaults are applied when read. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  webhookSecret: text('webhook_secret'),
  version: integer('version').notNull().default(1),
  createdAt: createdAt(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
