import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditEvent } from '../domain/audit/log.js';
import { loadCase } from '../domain/cases/service.js';
import { DomainError } from '../domain/errors.js';
import { run, type Unit } from '../domain/unit-of-work.js';
import { actorOf } from './ctx.js';
import type { AppDeps } from './deps.js';
import { claimKey, findKey, open, releaseKey, seal, storeResponse } from '../domain/idempotency/store.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

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
  work: (uow: Unit<'write'>) => Promise<T>,
  caseIdOf: (result: T) => string | null = () => null,
  carriesSecret: (result: T) => boolean = () => false,
): Promise<T> {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) {
    const result = await run(deps, actorOf(request), 'write', work);
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
  if (!(await claimKey(deps.db, tokenId, key, hash))) {
    const existing = await findKey(deps.db, tokenId, key);
    if (!existing) throw new DomainError(409, 'idempotency.in_flight', 'A request with this Idempotency-Key is still being processed.');
    if (existing.requestHash !== hash) {
      throw new DomainError(422, 'idempotency.key_reused', 'This Idempotency-Key was used with a different request.');
    }
    if (existing.responseStatus === null) {
      throw new DomainError(409, 'idempotency.in_flight', 'A request with this Idempotency-Key is still being processed.');
    }
    if (existing.responseBody === null) {
      throw new DomainError(
        409,
        'idempotency.secret_not_replayed',
        'That request succeeded; its response held a secret shown once, which is never stored or shown again.',
      );
    }
    const caseId = existing.caseId;
    // Scope is checked again (a case that left the caller's scope is a 404) and the replay audited like a read.
    await run(deps, actorOf(request), 'read', async (uow) => {
      if (caseId) await loadCase(uow.tx, uow, caseId);
      uow.audit(auditEvent(uow, 'idempotency.replay', caseId ? 'case' : 'request', caseId, uow.principal.programId, caseId));
    });
    reply.header('idempotent-replayed', 'true');
    return reply
      .code(existing.responseStatus)
      .type('application/json; charset=utf-8')
      .send(open(deps.secret, existing.responseBody)) as unknown as T;
  }

  try {
    const body = await run(deps, actorOf(request), 'write', async (uow) => {
      const result = await work(uow);
      reply.code(status);
      const serialized = String(reply.serialize(result));
      // Stored in the same round trip as the write's audit entries, just before COMMIT.
      uow.atCommit(storeResponse(tokenId, key, status, carriesSecret(result) ? null : seal(deps.secret, serialized), caseIdOf(result)));
      return serialized;
    });
    // Sent only after commit: a 201 always means the write is durable.
    return reply.type('application/json; charset=utf-8').send(body) as unknown as T;
  } catch (err) {
    // Nothing was written: free the key so the client can retry it.
    await releaseKey(deps.db, tokenId, key).catch(() => {});
    throw err;
  }
}

/**
 * A creating POST about a case: idempotent, the stored response tied to the case (so erasure can
 * drop it); the unit of work enqueues the jobs it asked for once it committed.
 */
export async function createForCase<T extends { caseId: string }>(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (uow: Unit<'write'>) => Promise<T>,
): Promise<T> {
  return idempotent(deps, request, reply, 201, work, (v) => v.caseId);
}
