import { loadSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import { auditEvent } from '../audit/log.js';
import { rankCandidates } from '../cases/candidates.js';
import { assign } from '../cases/service.js';
import { activeCaseIdsOf } from '../cases/store.js';
import { DomainError, invalid, notFound } from '../errors.js';
import { type Actor, run, type UnitDeps } from '../unit-of-work.js';
import { findStaffMember } from './store.js';

export interface HandoverInput {
  toIntervenerId?: string;
  strategy?: 'ranked';
  reason: string;
  note?: string | null;
}

export interface HandoverResult {
  moved: { caseId: string; toIntervenerId: string }[];
  skipped: { caseId: string; code: string }[];
}

/**
 * POST /v1/staff/{id}/handover: every active case the staff member holds moves to one receiver, or
 * each to its best-ranked candidate, one transaction per case: a case that cannot move (the
 * receiver at capacity, absent, or no candidate) is listed in `skipped` with the refusal's code,
 * and the others still move. Each move is an ordinary assignment (a new assignment period,
 * outstanding follow-ups move with it, the receiver is notified) with the handover note.
 */
export async function handOver(deps: UnitDeps, actor: Actor, staffId: string, input: HandoverInput): Promise<HandoverResult> {
  if ((input.toIntervenerId === undefined) === (input.strategy === undefined)) {
    throw invalid('handover.target_required', 'Give either toIntervenerId or strategy "ranked".', 'body.toIntervenerId');
  }
  const held = await run(deps, actor, 'read', async (uow) => {
    const who = await findStaffMember(uow.tx, staffId);
    if (who?.role !== 'intervener' || who.programId !== uow.principal.programId) throw notFound('staff');
    // Checked once for the whole handover (422 naming the field), not refused case by case into `skipped`.
    checkFreeText(await loadSettings(uow.tx, who.programId), { 'body.reason': input.reason, 'body.note': input.note });
    if (input.toIntervenerId !== undefined) {
      if (input.toIntervenerId === staffId) throw invalid('handover.same_intervener', 'Hand over to someone else.', 'body.toIntervenerId');
      const to = await findStaffMember(uow.tx, input.toIntervenerId);
      if (to?.role !== 'intervener' || to.programId !== who.programId || !to.active) {
        throw invalid('handover.unknown_receiver', 'The receiver must be an active intervener of the same program.', 'body.toIntervenerId');
      }
    }
    uow.audit(auditEvent(uow, 'staff.handover', 'staff', staffId, who.programId));
    return activeCaseIdsOf(uow.tx, staffId);
  });
  const result: HandoverResult = { moved: [], skipped: [] };
  for (const caseId of held) {
    try {
      const to = await run(deps, actor, 'write', async (uow) => {
        let receiver = input.toIntervenerId;
        if (receiver === undefined) {
          const best = (await rankCandidates(uow.tx, uow, caseId)).find((c) => c.intervenerId !== staffId);
          if (!best) throw new DomainError(409, 'handover.no_candidate', 'No other active intervener can take this case.');
          receiver = best.intervenerId;
        }
        await assign(uow.tx, uow, caseId, { intervenerId: receiver, reason: input.reason, handoverNote: input.note ?? null });
        return receiver;
      });
      result.moved.push({ caseId, toIntervenerId: to });
    } catch (err) {
      // A refusal skips this case; anything else (the database gone) stops the handover, as it would any request.
      if (!(err instanceof DomainError) || err.status >= 500) throw err;
      result.skipped.push({ caseId, code: err.code });
    }
  }
  return result;
}
