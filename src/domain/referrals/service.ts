import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import { caseErased, loadCase, loadCaseForWrite } from '../cases/service.js';
import { findCaseInScope, insertCaseEvent, updateCase } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid, notFound } from '../errors.js';
import { programSettings } from '../programs/settings.js';
import { hasConcern } from '../safeguarding/store.js';
import { checkFreeText } from '../text/identifiers.js';
import type { ReferralConsent, ReferralStatus, ReferralTarget } from '../vocabulary.js';
import { referralRefusal } from './rules.js';
import { findReferral, insertReferral, listReferralsOf, type ReferralRow, updateReferralStatus } from './store.js';

export type { ReferralRow } from './store.js';

export function toReferralView(r: ReferralRow) {
  return {
    id: r.id,
    caseId: r.caseId,
    to: r.to,
    consent: r.consent,
    // Null when none was given, or once the case is erased.
    basis: r.basis,
    note: r.note,
    status: r.status,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export interface ReferralInput {
  to: ReferralTarget;
  consent: ReferralConsent;
  basis?: string | null;
  note?: string | null;
}

/**
 * POST /v1/cases/{id}/referrals: the case's holder (or cover) and the program's leads. The case
 * history records who decided, with what consent; the case's `referredAt` is its first referral.
 */
export async function createReferral(tx: Tx, ctx: Ctx, caseId: string, input: ReferralInput): Promise<ReferralRow> {
  const { case: c } = await loadCaseForWrite(tx, ctx, caseId);
  const basis = input.basis?.trim() || null;
  const note = input.note?.trim() || null;
  const refusal = await referralRefusal({ to: input.to, consent: input.consent, basis }, ctx.principal.role, () => hasConcern(tx, c.id));
  if (refusal === 'basis_required') {
    throw invalid('referral.basis_required', 'A referral without given consent needs the basis it rests on.', 'body.basis');
  }
  if (refusal === 'consent_required') {
    throw new DomainError(
      422,
      'referral.consent_required',
      `A referral to ${input.to} without consent needs a lead to decide it, on a case with a safeguarding concern.`,
    );
  }
  const settings = await programSettings(tx, c.programId);
  checkFreeText(settings, { 'body.basis': basis, 'body.note': note });
  const now = ctx.clock.now();
  const row = await insertReferral(tx, {
    id: uuidv7(),
    caseId: c.id,
    programId: c.programId,
    to: input.to,
    consent: input.consent,
    basis,
    note,
    createdBy: ctx.principal.staffId,
    createdAt: now,
  });
  if (!c.referredAt) await updateCase(tx, c.id, { referredAt: now }, now);
  // Who decided, and as what: the basis stays on the referral (free text, erased with the case).
  await insertCaseEvent(tx, {
    caseId: c.id,
    programId: c.programId,
    actorId: ctx.principal.staffId,
    kind: 'referred',
    fromStatus: null,
    toStatus: null,
    data: { referralId: row.id, to: row.to, consent: row.consent, decidedBy: ctx.principal.staffId, decidedAs: ctx.principal.role },
    at: now,
  });
  ctx.audit(auditEvent(ctx, 'referral.create', 'referral', row.id, c.programId, c.id));
  return row;
}

/** GET /v1/cases/{id}/referrals: oldest first; one audit entry per page. */
export async function listReferrals(tx: Tx, ctx: Ctx, caseId: string, page: { limit: number; after?: string }): Promise<ReferralRow[]> {
  const { case: c } = await loadCase(tx, ctx, caseId);
  const rows = await listReferralsOf(tx, c.id, page.limit + 1, page.after);
  ctx.audit(auditEvent(ctx, 'referral.list', 'case', c.id, c.programId));
  return rows;
}

/** PATCH /v1/referrals/{id}: what became of it, by whoever may refer from the case now. */
export async function setReferralStatus(tx: Tx, ctx: Ctx, id: string, status: ReferralStatus): Promise<ReferralRow> {
  const r = await findReferral(tx, id);
  const found = r ? await findCaseInScope(tx, ctx.principal, r.caseId, { lock: true }) : undefined;
  if (!r || !found) throw notFound('referral');
  if (found.case.erasedAt) throw caseErased();
  const now = ctx.clock.now();
  const row = await updateReferralStatus(tx, id, status, now);
  await insertCaseEvent(tx, {
    caseId: r.caseId,
    programId: r.programId,
    actorId: ctx.principal.staffId,
    kind: 'referral_status',
    fromStatus: null,
    toStatus: null,
    data: { referralId: id, from: r.status, to: status },
    at: now,
  });
  ctx.audit(auditEvent(ctx, 'referral.update', 'referral', id, r.programId, r.caseId));
  return row;
}
