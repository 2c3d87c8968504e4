import { integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './columns.js';

/** Responses kept for Idempotency-Key replays (written only by src/domain/idempotency/store.ts). */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tokenId: uuid('token_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    /** Null while the first request is in flight. */
    responseStatus: integer('response_status'),
    /** The response as sent, AES-256-GCM encrypted: it may hold a token or a handle. */
    responseBody: text('response_body'),
    /** The case the response is about, so erasure can drop it. */
    caseId: uuid('case_id'),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tokenId, t.key] })],
);
