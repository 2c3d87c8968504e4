import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { hotQuery, type Statement } from '../../db/prepared.js';
import { idempotencyKeys } from '../../db/schema/index.js';

/**
 * The only code that reads or writes `idempotency_keys`: responses kept for Idempotency-Key replays.
 * It serves HTTP alone (src/http/idempotency.ts), so it belongs to no aggregate; erasure asks it to
 * forget a case's responses.
 */

const KEEP_HOURS = 24;
/** An in-flight marker older than this belongs to a request whose transaction rolled back. */
const ABANDONED_AFTER_S = 30;

export type StoredResponse = typeof idempotencyKeys.$inferSelect;

function bodyKey(secret: string) {
  return createHmac('sha256', secret).update('overture idempotency responses').digest();
}

/** Responses are stored sealed (AES-256-GCM under a key derived from the secret): they may hold case data. */
export function seal(secret: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', bodyKey(secret), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
}

export function open(secret: string, sealed: string): string {
  const buf = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', bodyKey(secret), buf.subarray(0, 12));
  decipher.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
}

/** Claims (token, key) with an in-flight marker, committed on its own; false when someone holds it (or held it and finished). */
export async function claimKey(db: Db, tokenId: string, key: string, requestHash: string): Promise<boolean> {
  const claimed = await hotQuery(
    db,
    'idempotency_claim',
    `insert into idempotency_keys (token_id, key, request_hash, expires_at) values ($1, $2, $3, now() + make_interval(hours => $4))
     on conflict (token_id, key) do update
       set request_hash = excluded.request_hash, response_status = null, response_body = null, created_at = now(), expires_at = excluded.expires_at
       where idempotency_keys.expires_at < now()
          or (idempotency_keys.response_status is null and idempotency_keys.created_at < now() - make_interval(secs => $5))
     returning key`,
    [tokenId, key, requestHash, KEEP_HOURS, ABANDONED_AFTER_S],
  );
  return claimed.length > 0;
}

export async function findKey(db: Db, tokenId: string, key: string): Promise<StoredResponse | undefined> {
  const [existing] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.tokenId, tokenId), eq(idempotencyKeys.key, key)));
  return existing;
}

/**
 * The stored response of a claimed key, as a statement for the write's own transaction to run
 * last (unit-of-work `atCommit`): the response is stored exactly when the write commits.
 */
export function storeResponse(tokenId: string, key: string, status: number, sealedBody: string | null, caseId: string | null): Statement {
  return {
    name: 'idempotency_store',
    text: 'update idempotency_keys set response_status = $3, response_body = $4, case_id = $5 where token_id = $1 and key = $2',
    values: [tokenId, key, status, sealedBody, caseId],
  };
}

/** Frees a claim whose write rolled back, so the client can retry with the same key. */
export async function releaseKey(db: Db, tokenId: string, key: string): Promise<void> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.tokenId, tokenId), eq(idempotencyKeys.key, key)));
}

/** Erasure: a case's stored responses go with its identity (they may hold its handle). */
export async function forgetCaseResponses(tx: Tx, caseId: string): Promise<void> {
  await tx.delete(idempotencyKeys).where(eq(idempotencyKeys.caseId, caseId));
}
