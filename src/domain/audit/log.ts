import { createHash } from 'node:crypto';
import { desc, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditLog } from '../../db/schema/index.js';

export const GENESIS_HASH = '0'.repeat(64);
const AUDIT_CHAIN_LOCK = 7242003;

/** What happened, to what, by whom. Ids only: never handles, notes or summaries. */
export interface AuditEvent {
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  programId?: string | null;
  /** The case the entry concerns (for GET /v1/audit?caseId=); defaults to targetId for cases. */
  caseId?: string | null;
  requestId?: string | null;
}

/** An entry for something a caller did, in a request or a job. */
export function auditEvent(
  ctx: { principal: { staffId: string }; requestId: string | null },
  action: string,
  targetType: string,
  targetId: string | null,
  programId: string | null,
  caseId?: string | null,
): AuditEvent {
  return { actorId: ctx.principal.staffId, action, targetType, targetId, programId, caseId, requestId: ctx.requestId };
}

export interface AuditEntry {
  id: string;
  at: Date;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  programId: string | null;
  caseId: string | null;
  requestId: string | null;
}

/** Canonical JSON: fixed key order, ISO times, nulls explicit. */
export function canonicalEntry(e: AuditEntry): string {
  return JSON.stringify({
    action: e.action,
    actorId: e.actorId,
    at: e.at.toISOString(),
    caseId: e.caseId,
    id: e.id,
    programId: e.programId,
    requestId: e.requestId,
    targetId: e.targetId,
    targetType: e.targetType,
  });
}

export function chainHash(prevHash: string, e: AuditEntry): string {
  return createHash('sha256').update(prevHash).update(canonicalEntry(e)).digest('hex');
}

/**
 * Appends entries to the hash chain. The advisory lock serialises appenders across every
 * process; it is held until the surrounding transaction ends, so call this last in a write.
 */
export async function appendAudit(tx: Tx, events: AuditEvent[], now = new Date()): Promise<void> {
  if (events.length === 0) return;
  // Nested: a savepoint inside the caller's transaction, or a transaction of its own.
  await tx.transaction(async (t) => appendLocked(t, events, now));
}

async function appendLocked(tx: Tx, events: AuditEvent[], now: Date): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  const head = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  let prevHash = head[0]?.hash ?? GENESIS_HASH;
  const rows = events.map((ev) => {
    const entry: AuditEntry = {
      id: uuidv7(),
      at: now,
      actorId: ev.actorId,
      action: ev.action,
      targetType: ev.targetType,
      targetId: ev.targetId,
      programId: ev.programId ?? null,
      caseId: ev.caseId ?? (ev.targetType === 'case' ? ev.targetId : null),
      requestId: ev.requestId ?? null,
    };
    const hash = chainHash(prevHash, entry);
    const row = { ...entry, prevHash, hash };
    prevHash = hash;
    return row;
  });
  await tx.insert(auditLog).values(rows);
}
