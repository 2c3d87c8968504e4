import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { conflict, DomainError, forbidden, invalid, notFound } from '../errors.js';
import { type AbsenceRow, deleteAbsence, findAbsence, findStaffMember, insertAbsence, listAbsencesOf, type StaffMember } from './store.js';

export type { AbsenceRow } from './store.js';

export interface AbsenceInput {
  from: Date;
  to: Date;
  coverId?: string | null;
  reason?: string | null;
}

export function toAbsenceView(a: AbsenceRow) {
  return { id: a.id, staffId: a.staffId, from: a.from, to: a.to, coverId: a.coverId, reason: a.reason, createdAt: a.createdAt };
}

/** An absence longer than this is a leave, not an absence: hand the caseload over instead. */
const MAX_ABSENCE_MS = 366 * 86_400_000;

/**
 * The staff member whose absences the caller may manage: a lead, anyone of their program; an
 * intervener, themself only. Out of the caller's program (or missing) is 404, as everywhere.
 */
async function managedStaff(tx: Tx, ctx: Ctx, staffId: string): Promise<StaffMember> {
  const p = ctx.principal;
  const who = await findStaffMember(tx, staffId);
  if (!who || who.programId === null || who.programId !== p.programId) throw notFound('staff');
  if (p.role === 'lead') return who;
  if (p.role === 'intervener' && who.id === p.staffId) return who;
  if (p.role === 'intervener') throw notFound('staff');
  throw forbidden('Leads record absences; an intervener may record their own.');
}

/** POST /v1/staff/{id}/absences. While it lasts the absent person gets no cases and their cover works theirs. */
export async function recordAbsence(tx: Tx, ctx: Ctx, staffId: string, input: AbsenceInput): Promise<AbsenceRow> {
  const who = await managedStaff(tx, ctx, staffId);
  if (input.to.getTime() <= input.from.getTime()) throw invalid('absence.invalid_period', '`to` must be after `from`.', 'body.to');
  if (input.to.getTime() - input.from.getTime() > MAX_ABSENCE_MS) {
    throw invalid('absence.too_long', 'An absence is at most a year: hand the caseload over for a longer one.', 'body.to');
  }
  const coverId = input.coverId ?? null;
  if (coverId) {
    if (ctx.principal.role !== 'lead') throw new DomainError(403, 'absence.cover_needs_lead', 'Only a lead names a cover.');
    if (who.role !== 'intervener')
      throw invalid('absence.cover_not_intervener', 'Only an intervener’s cases can be covered.', 'body.coverId');
    if (coverId === who.id) throw invalid('absence.cover_is_absent', 'The cover must be someone else.', 'body.coverId');
    const cover = await findStaffMember(tx, coverId);
    if (!cover || cover.programId !== who.programId || cover.role !== 'intervener' || !cover.active) {
      throw invalid('absence.unknown_cover', 'The cover must be an active intervener of the same program.', 'body.coverId');
    }
  }
  const overlapping = (await listAbsencesOf(tx, who.id, 100)).find((a) => a.from < input.to && a.to > input.from);
  if (overlapping) {
    throw conflict('absence.overlaps', 'This staff member is already absent for part of that period.', { absenceId: overlapping.id });
  }
  const row = await insertAbsence(tx, {
    id: uuidv7(),
    staffId: who.id,
    programId: who.programId!,
    from: input.from,
    to: input.to,
    coverId,
    reason: input.reason ?? null,
    createdBy: ctx.principal.staffId,
  });
  ctx.audit(auditEvent(ctx, 'absence.create', 'absence', row.id, row.programId));
  return row;
}

/** GET /v1/staff/{id}/absences: latest first. */
export async function listAbsences(tx: Tx, ctx: Ctx, staffId: string, page: { limit: number; after?: string }) {
  const who = await managedStaff(tx, ctx, staffId);
  const rows = await listAbsencesOf(tx, who.id, page.limit, page.after);
  ctx.audit(auditEvent(ctx, 'absence.list', 'staff', who.id, who.programId));
  return rows;
}

/** DELETE /v1/absences/{id}: ends it now (or cancels it, if it has not started); the cover loses the cases at once. */
export async function removeAbsence(tx: Tx, ctx: Ctx, id: string): Promise<void> {
  const a = await findAbsence(tx, id);
  if (!a || a.programId !== ctx.principal.programId) throw notFound('absence');
  await managedStaff(tx, ctx, a.staffId);
  // An intervener may take back their own, but not one a lead set up with a cover.
  if (ctx.principal.role !== 'lead' && a.coverId)
    throw new DomainError(403, 'absence.cover_needs_lead', 'A lead set up this cover; ask them to end it.');
  await deleteAbsence(tx, id, ctx.clock.now());
  ctx.audit(auditEvent(ctx, 'absence.delete', 'absence', id, a.programId));
}
