import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tx } from '../db/client.js';
import { hotQuery } from '../db/hot.js';
import { idempotencyKeys } from '../db/schema/index.js';
import { auditEvent } from '../domain/audit/log.js';
import { loadCase } from '../domain/cases/repository.js';
import { DomainError } from '../domain/errors.js';
import type { Ctx } from '../domain/context.js';
import { ctxOf, flushJobs } from './ctx.js';
import type { AppDeps } from './deps.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const KEEP_HOURS = 24;
/** An in-flight marker older than this belongs to a request whose transaction rolled back. */
const ABANDONED_AFTER_S = 30;

function bodyKey(secret: string) {
  return createHmac('sha256', secret).update('overture idempotency responses').digest();
}

function seal(secret: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', bodyKey(secret), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
}

function open(secret: string, sealed: string): string {
  const buf = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', bodyKey(secret), buf.subarray(0, 12));
  decipher.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
}

function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('hex');
}

/**
 * Runs a creating POST at most once per (token, Idempotency-Key). The in-flight marker commits
 * first (so a concurrent replay gets 409); the response is stored in the same transaction as the
 * write, so a replay after success returns exactly what the first call returned, to a caller
 * who may still see it (a replay about a case that has left their scope is a 404), and is
 * audited like a read. A response carrying a secret shown once is never stored: its replay is
 * a 409.
 */
export async function idempotent<T>(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  run: (tx: Tx) => Promise<T>,
  caseIdOf: (result: T) => string | null = () => null,
  carriesSecret: (result: T) => boolean = () => false,
): Promise<T> {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) {
    const result = await deps.db.transaction((tx) => run(tx));
    return reply.code(status).send(result) as unknown as T;
  }
  const key = Array.isArray(raw) ? raw[0]! : raw;
  if (!KEY_PATTERN.test(key)) {
    throw new DomainError(400, 'idempotency.invalid_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters.', {
      errors: [{ path: 'headers.idempotency-key', message: 'must be 1 to 255 visible ASCII characters' }],
    });
  }
  const tokenId = request.principal.tokenId;
  const hash = requestHash(request);
  const claimed = await hotQuery(
    deps.db,
    'idempotency_claim',
    `insert into idempotency_keys (token_id, key, request_hash, expires_at) values ($1, $2, $3, now() + make_interval(hours => ${KEEP_HOURS}))
     on conflict (token_id, key) do update
       set request_hash = excluded.request_hash, response_status = null, response_body = null, created_at = now(), expires_at = excluded.expires_at
       where idempotency_keys.expires_at < now()
          or (idempotency_keys.response_status is null and idempotency_keys.created_at < now() - make_interval(secs => ${ABANDONED_AFTER_S}))
     returning key`,
    [tokenId, key, hash],
  );

  if (claimed.length === 0) {
    const [existing] = await deps.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.tokenId, tokenId), eq(idempotencyKeys.key, key)));
    if (!existing) throw new DomainError(409, 'idempotency.in_flight', 'A request with this Idempotency-Key is still being processed.');
    if (existing.requestHash !== hash) {
      throw new DomainError(422, 'idempotency.key_reused', 'This Idempotency-Key was used with a different request.');
    }
    if (existing.responseStatus === null) {
      throw new DomainError(409, 'idempotency.in_flight', 'A request with this Idempotency-Key is still being processed.');
    }
    if (existing.responseBody === null) {
      throw new DomainError(409, 'idempotency.secret_not_replayed', 'That request succeeded; its response held a secret shown once, which is never stored or shown again.');
    }
    const ctx = ctxOf(deps, request);
    if (existing.caseId) await loadCase(deps.db, ctx, existing.caseId);
    await ctx.recordRead([
      auditEvent(ctx, 'idempotency.replay', existing.caseId ? 'case' : 'request', existing.caseId, request.principal.programId, existing.caseId),
    ]);
    reply.header('idempotent-replayed', 'true');
    return reply.code(existing.responseStatus).type('application/json; charset=utf-8').send(open(deps.secret, existing.responseBody)) as unknown as T;
  }

  try {
    const body = await deps.db.transaction(async (tx) => {
      const result = await run(tx);
      reply.code(status);
      const serialized = String(reply.serialize(result));
      await hotQuery(
        tx,
        'idempotency_store',
        'update idempotency_keys set response_status = $3, response_body = $4, case_id = $5 where token_id = $1 and key = $2',
        [tokenId, key, status, carriesSecret(result) ? null : seal(deps.secret, serialized), caseIdOf(result)],
      );
      return serialized;
    });
    // Sent only after commit: a 201 always means the write is durable.
    return reply.type('application/json; charset=utf-8').send(body) as unknown as T;
  } catch (err) {
    // Nothing was written: free the key so the client can retry it.
    await deps.db
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.tokenId, tokenId), eq(idempotencyKeys.key, key)))
      .catch(() => {});
    throw err;
  }
}

/**
 * A creating POST about a case: idempotent, the stored response tied to the case (so erasure can
 * drop it), and the jobs it asked for enqueued once it committed.
 */
export async function createForCase<T extends { caseId: string }>(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  run: (tx: Tx, ctx: Ctx) => Promise<T>,
): Promise<T> {
  const ctx = ctxOf(deps, request);
  const result = await idempotent(deps, request, reply, 201, (tx) => run(tx, ctx), (v) => v.caseId);
  await flushJobs(deps, ctx);
  return result;
}
