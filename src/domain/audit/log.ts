import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';

export const GENESIS_HASH = '0'.repeat(64);

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
 * Appends entries to the hash chain, one database round trip each (overture_audit_append takes
 * the chain lock, reads the head and inserts). The lock serialises appenders across every process
 * and is held until the surrounding transaction ends, so call this last in a write.
 */
export async function appendAudit(tx: Tx, events: AuditEvent[], now = new Date()): Promise<void> {
  for (const ev of events) {
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
    await tx.execute(
      sql`select overture_audit_append(${entry.id}, ${entry.at.toISOString()}::timestamptz, ${entry.actorId}, ${entry.action}, ${entry.targetType},
        ${entry.targetId}, ${entry.programId}, ${entry.caseId}, ${entry.requestId}, ${canonicalEntry(entry)})`,
    );
  }
}
