import { createHash } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { hotQuery, type Statement } from '../../db/prepared.js';

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
  /** A list read: every case it showed, in one entry (GET /v1/audit?caseId= finds it). */
  caseIds?: readonly string[] | null;
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

/**
 * A list read: one entry naming every case it showed, so GET /v1/audit?caseId= finds every list
 * that showed a case (one entry, not one per case: interveners open their caseload all day).
 */
export function listReadEvents(
  ctx: { principal: { staffId: string }; requestId: string | null },
  action: string,
  targetType: string,
  programId: string | null,
  caseIds: readonly (string | null)[],
): AuditEvent[] {
  const shown = [...new Set(caseIds.filter((id): id is string => id !== null).map((id) => id.toLowerCase()))];
  return [{ ...auditEvent(ctx, action, targetType, null, programId, null), caseIds: shown.length > 0 ? shown : null }];
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
  caseIds?: readonly string[] | null;
  requestId: string | null;
}

/** A uuid as PostgreSQL returns it: a client may send one in capitals (both are valid). */
const uuidText = (v: string | null) => (v === null ? null : v.toLowerCase());

/**
 * Canonical JSON: fixed key order, ISO times, nulls explicit, uuids in lower case, so what is
 * hashed at append time is exactly what verify rebuilds from the stored columns.
 */
export function canonicalEntry(e: AuditEntry): string {
  return JSON.stringify({
    action: e.action,
    actorId: uuidText(e.actorId),
    at: e.at.toISOString(),
    caseId: uuidText(e.caseId),
    // Only list reads carry it: the entries written before it existed hash as they always did.
    ...(e.caseIds && e.caseIds.length > 0 ? { caseIds: e.caseIds.map((id) => id.toLowerCase()) } : {}),
    id: uuidText(e.id),
    programId: uuidText(e.programId),
    requestId: e.requestId,
    targetId: uuidText(e.targetId),
    targetType: e.targetType,
  });
}

export function chainHash(prevHash: string, e: AuditEntry): string {
  return createHash('sha256').update(prevHash).update(canonicalEntry(e)).digest('hex');
}

/**
 * Appends entries to the hash chain in one round trip. They wait in audit_pending and are chained
 * into audit_log (in this order) when the surrounding transaction commits, by a deferred trigger
 * that takes the chain lock only for the commit itself (migration 0006); a rollback drops them
 * with everything else. Outside a transaction the statement is its own.
 */
export async function appendAudit(tx: Tx, events: AuditEvent[], now = new Date(), along?: Statement): Promise<void> {
  if (events.length === 0) {
    if (along) await hotQuery(tx, along.name, along.text, along.values);
    return;
  }
  // A statement that goes along (a write's stored response) runs as a CTE of the insert, its
  // parameters first: one round trip for both.
  const values: unknown[] = along ? [...along.values] : [];
  const offset = values.length;
  const rows = events.map((ev, i) => {
    const entry: AuditEntry = {
      id: uuidv7(),
      at: now,
      actorId: ev.actorId,
      action: ev.action,
      targetType: ev.targetType,
      targetId: ev.targetId,
      programId: ev.programId ?? null,
      caseId: ev.caseId ?? (ev.targetType === 'case' ? ev.targetId : null),
      caseIds: ev.caseIds ?? null,
      requestId: ev.requestId ?? null,
    };
    values.push(
      entry.id,
      entry.at,
      entry.actorId,
      entry.action,
      entry.targetType,
      entry.targetId,
      entry.programId,
      entry.caseId,
      entry.caseIds,
      entry.requestId,
      canonicalEntry(entry),
    );
    const n = offset + i * 11;
    return `($${n + 1}::uuid, $${n + 2}::timestamptz, $${n + 3}::uuid, $${n + 4}, $${n + 5}, $${n + 6}::uuid, $${n + 7}::uuid, $${n + 8}::uuid, $${n + 9}::uuid[], $${n + 10}, $${n + 11})`;
  });
  // A write's one entry, or a small batch of reads, is a statement prepared per size.
  await hotQuery(
    tx,
    events.length <= 16 ? `${along ? `${along.name}_with_` : ''}audit_pending_insert_${events.length}` : null,
    `${along ? `with along as (${along.text}) ` : ''}insert into audit_pending (id, at, actor_id, action, target_type, target_id, program_id, case_id, case_ids, request_id, canonical) values ${rows.join(', ')}`,
    values,
  );
}
