import { bigint, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** What an audit entry says (canonicalEntry hashes these and the id). */
const auditEntryColumns = () => ({
  at: ts('at').notNull(),
  actorId: uuid('actor_id'),
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: uuid('target_id'),
  programId: uuid('program_id'),
  caseId: uuid('case_id'),
  /** A list read: every case it showed (so ?caseId= finds it), in one entry. */
  caseIds: uuid('case_ids').array(),
  requestId: text('request_id'),
});

export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: uuid('id').notNull().unique(),
    ...auditEntryColumns(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_log_actor_idx').on(t.actorId, t.seq),
    index('audit_log_case_idx').on(t.caseId, t.seq),
    index('audit_log_case_ids_idx').using('gin', t.caseIds),
  ],
);

/**
 * Audit entries of the open transaction, waiting for its commit: a deferred constraint trigger
 * (migration 0006) chains each one into audit_log at commit and deletes it here, so the chain
 * lock is held only for the commit itself, never while the application works. Always empty
 * between transactions.
 */
export const auditPending = pgTable('audit_pending', {
  id: uuid('id').primaryKey(),
  ...auditEntryColumns(),
  /** canonicalEntry() of the entry, hashed into the chain. */
  canonical: text('canonical').notNull(),
});
