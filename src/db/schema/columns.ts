import { timestamp, uuid } from 'drizzle-orm/pg-core';

/** Timestamps are always timestamptz, read back as Date. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
export const id = () => uuid('id').primaryKey();
export const createdAt = () => ts('created_at').notNull().defaultNow();
