import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import {
  assignments,
  caseEvents,
  cases,
  followUps,
  idempotencyKeys,
  profiles,
  safeguardingConcerns,
  suppressionList,
  touchpoints,
} from '../../db/schema/index.js';
import { type AuditEvent, appendAudit } from '../audit/log.js';
import { suppressionHash } from '../cases/profile.js';
import { type CaseWithProfile, loadCase, loadCaseForWrite } from '../cases/repository.js';
import type { Ctx } from '../context.js';

const OPEN = ['flagged', 'accepted', 'approved', 'active'] as const;

export interface EraseOptions {
  now: Date;
  /** Erasure on request: the profile may never be flagged again (a keyed hash, never the handle). */
  suppressWith?: string;
  actorId: string | null;
  requestId?: string | null;
  reason: string;
  action: 'case.erase' | 'case.retention_erase';
}

/**
 * Deletes a case's identity and free text everywhere it lives (profile, indicator notes and
 * evidence links, touchpoint summaries, follow-up notes, safeguarding text, event reasons, stored
 * idempotent responses) and keeps the anonymous counts and stage timestamps reports need.
 * Idempotent: an erased case is left as it is.
 */
export async function eraseCase(tx: Tx, caseId: string, o: EraseOptions): Promise<boolean> {
  const [c] = await tx.select().from(cases).where(eq(cases.id, caseId)).for('update');
  if (!c || c.erasedAt) return false;
  const [p] = await tx.select().from(profiles).where(eq(profiles.caseId, caseId));
  if (o.suppressWith && p?.handle) {
    await tx
      .insert(suppressionList)
      .values({ hash: suppressionHash(o.suppressWith, p.platform, p.handle) })
      .onConflictDoNothing();
  }
  await tx.update(profiles).set({ handle: null, url: null, displayName: null, language: null, open: false }).where(eq(profiles.caseId, caseId));
  const wasOpen = (OPEN as readonly string[]).includes(c.status);
  await tx
    .update(cases)
    .set({
      indicators: c.indicators.map((i) => ({ kind: i.kind, evidenceUrl: null, note: null })),
      erasedAt: o.now,
      ...(wasOpen ? { status: 'closed' as const, closedAt: c.closedAt ?? o.now } : {}),
      version: sql`${cases.version} + 1`,
      updatedAt: o.now,
    })
    .where(eq(cases.id, caseId));
  await tx.update(touchpoints).set({ summary: null }).where(eq(touchpoints.caseId, caseId));
  await tx
    .update(followUps)
    .set({ note: null, status: sql`case when ${followUps.status} in ('pending', 'due', 'overdue') then 'cancelled'::follow_up_status else ${followUps.status} end`, version: sql`${followUps.version} + 1` })
    .where(eq(followUps.caseId, caseId));
  // Nobody can act on an erased case's concern any more: escalations about it end here.
  await tx
    .update(safeguardingConcerns)
    .set({
      concern: null,
      actionTaken: null,
      acknowledgeNote: null,
      status: 'acknowledged',
      acknowledgedAt: sql`coalesce(${safeguardingConcerns.acknowledgedAt}, ${o.now.toISOString()}::timestamptz)`,
      acknowledgedBy: sql`coalesce(${safeguardingConcerns.acknowledgedBy}, ${o.actorId}::uuid)`,
    })
    .where(eq(safeguardingConcerns.caseId, caseId));
  await tx.update(assignments).set({ overrideReason: null }).where(eq(assignments.caseId, caseId));
  await tx.update(assignments).set({ endedAt: o.now }).where(and(eq(assignments.caseId, caseId), isNull(assignments.endedAt)));
  await tx.update(caseEvents).set({ reason: null, data: null }).where(eq(caseEvents.caseId, caseId));
  await tx.delete(idempotencyKeys).where(eq(idempotencyKeys.caseId, caseId));
  await tx.insert(caseEvents).values({
    id: uuidv7(),
    caseId,
    programId: c.programId,
    actorId: o.actorId,
    kind: o.action === 'case.erase' ? 'erased' : 'retention_erased',
    fromStatus: c.status,
    toStatus: wasOpen ? 'closed' : c.status,
    reason: o.reason,
    at: o.now,
  });
  const entry: AuditEvent = { actorId: o.actorId, action: o.action, targetType: 'case', targetId: caseId, programId: c.programId, requestId: o.requestId ?? null };
  await appendAudit(tx, [entry], o.now);
  return true;
}

/** POST /v1/cases/{id}/erase: erasure on request, at once, and the profile is suppressed. */
export async function eraseOnRequest(tx: Tx, ctx: Ctx, caseId: string, reason: string): Promise<CaseWithProfile> {
  await loadCaseForWrite(tx, ctx, caseId);
  await eraseCase(tx, caseId, { now: ctx.clock.now(), suppressWith: ctx.secret, actorId: ctx.principal.staffId, requestId: ctx.requestId, reason, action: 'case.erase' });
  return loadCase(tx, ctx, caseId);
}
