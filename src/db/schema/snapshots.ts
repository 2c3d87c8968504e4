import { bigint, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id } from './columns.js';
import { snapshotReport } from './enums.js';

/** Frozen reports: each one's hash chains the program's snapshots, as the audit log chains entries. */
export const reportSnapshots = pgTable(
  'report_snapshots',
  {
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    id: id(),
    programId: uuid('program_id').notNull(),
    report: snapshotReport('report').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    createdBy: uuid('created_by').notNull(),
    settingsVersion: integer('settings_version').notNull(),
    body: jsonb('body').$type<unknown>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('report_snapshots_program_idx').on(t.programId, t.seq)],
);
