import { pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** Data steps that SQL cannot express (src/db/data-migrations.ts), each applied once. */
export const dataMigrations = pgTable('data_migrations', {
  name: text('name').primaryKey(),
  appliedAt: ts('applied_at').notNull().defaultNow(),
});
