import type { Tx } from '../../db/client.js';
import { DomainError } from '../errors.js';
import { activeHoldOf } from '../holds/store.js';
import { eraseAssessmentNotesOf } from '../assessments/store.js';
import type { AuditEvent } from '../audit/log.js';
import { suppressionHash } from '../cases/profile.js';
import { type CaseWithProfile, loadCase, loadCaseForWrite } from '../cases/service.js';
import { addSuppression, eraseCaseIdentity, findProfile, insertCaseEvent, lockCaseRow } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { eraseFollowUpsOf } from '../followups/store.js';
import { forgetCaseResponses } from '../idempotency/store.js';
import { eraseNotesOf } from '../notes/store.js';
import { eraseReviewNotesOf } from '../reviews/store.js';
import { eraseReferralTextOf } from '../referrals/store.js';
import { loadSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import { eraseConcernsOf } from '../safeguarding/store.js';
import { eraseTouchpointsOf } from '../touchpoints/store.js';

export interface EraseOptions {
  now: Date;
  /** Erasure on request: the profile may never be flagged again (a keyed hash, never the handle). */
  suppressWith?: string;
  actorId: string | null;
  requestId?: string | null;
  reason: string;
  action: 'case.erase' | 'case.retention_erase';
  /** Where the erasure's audit entry goes: the unit of work's, or a job's own transaction. */
  audit: (entry: AuditEvent) => void;
}

/**
 * Deletes a case's identity and free text everywhere it lives (profile, indicator notes and
 * evidence links, touchpoint summaries, follow-up notes, case notes' bodies, assessment notes, referral bases and notes, safeguarding text, event reasons, stored
 * idempotent responses) and keeps the anonymous counts and stage timestamps reports need.
 * Idempotent: an erased case is left as it is.
 */
export async function eraseCase(tx: Tx, caseId: string, o: EraseOptions): Promise<boolean> {
  const c = await lockCaseRow(tx, caseId);
  if (!c || c.erasedAt) return false;
  // A hold (a safeguarding investigation, a complaint, litigation, a pending request) wins over erasure.
  const hold = await activeHoldOf(tx, caseId, o.now);
  if (hold) {
    throw new DomainError(409, 'case.on_hold', `The case is on hold (${hold.reason}); release the hold before erasing it.`, {
      holdId: hold.id,
      reason: hold.reason,
    });
  }
  const p = await findProfile(tx, caseId);
  if (o.suppressWith && p?.handle) await addSuppression(tx, suppressionHash(o.suppressWith, p.platform, p.handle));
  const endStatus = await eraseCaseIdentity(tx, c, o.now);
  await eraseTouchpointsOf(tx, caseId);
  await eraseFollowUpsOf(tx, caseId);
  await eraseNotesOf(tx, caseId);
  await eraseReviewNotesOf(tx, caseId);
  await eraseAssessmentNotesOf(tx, caseId);
  await eraseReferralTextOf(tx, caseId);
  // Nobody can act on an erased case's concern any more: escalations about it end here.
  await eraseConcernsOf(tx, caseId, o.now, o.actorId);
  await forgetCaseResponses(tx, caseId);
  await insertCaseEvent(tx, {
    caseId,
    programId: c.programId,
    actorId: o.actorId,
    kind: o.action === 'case.erase' ? 'erased' : 'retention_erased',
    fromStatus: c.status,
    toStatus: endStatus,
    reason: o.reason,
    at: o.now,
  });
  const entry: AuditEvent = {
    actorId: o.actorId,
    action: o.action,
    targetType: 'case',
    targetId: caseId,
    programId: c.programId,
    requestId: o.requestId ?? null,
  };
  o.audit(entry);
  return true;
}

/** POST /v1/cases/{id}/erase: erasure on request, at once, and the profile is suppressed. */
export async function eraseOnRequest(tx: Tx, ctx: Ctx, caseId: string, reason: string): Promise<CaseWithProfile> {
  const found = await loadCaseForWrite(tx, ctx, caseId);
  // The reason outlives the erasure (it is the case history's): it may not name the person either.
  checkFreeText(await loadSettings(tx, found.case.programId), { 'body.reason': reason });
  await eraseCase(tx, caseId, {
    now: ctx.clock.now(),
    suppressWith: ctx.secret,
    actorId: ctx.principal.staffId,
    requestId: ctx.requestId,
    reason,
    action: 'case.erase',
    audit: (entry) => ctx.audit(entry),
  });
  return loadCase(tx, ctx, caseId);
}
