import type { Db, Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent, listReadEvents } from '../audit/log.js';
import { type CaseRow, casesAwaitingReviewBy, findCaseOfProgram, holderIdsOf, updateCase } from '../cases/store.js';
import { checkOutcome } from '../cases/workflow.js';
import type { Ctx } from '../context.js';
import { conflict, DomainError, notFound } from '../errors.js';
import { notify } from '../notifications/notify.js';
import { type ProgramSettings, programSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import { webhookJobs } from '../reminders/jobs.js';
import { activeLeadIds, listStaffRows } from '../staff/store.js';
import { listTouchpointsOf } from '../touchpoints/store.js';
import type { OutcomeStatus } from '../vocabulary.js';
import { decide, OPEN_REVIEW_STATUSES, type Outcome, outcomeStatusOf, seesAllReviews, unknownSignals } from './rules.js';
import { hasReviewed, insertReview, type ReviewRow, reviewedCaseIds, reviewsOfClosing } from './store.js';

export type { ReviewPair } from './store.js';
export { closedReviewPairs } from './store.js';

export interface ReviewInput {
  outcome: Outcome;
  signals: string[];
  confidence: 'low' | 'medium' | 'high';
  note?: string | null;
}

export interface AdjudicationInput {
  outcome: Outcome;
  signals: string[];
  note: string;
}

export function toReviewView(r: ReviewRow) {
  return {
    id: r.id,
    caseId: r.caseId,
    reviewerId: r.reviewerId,
    kind: r.kind,
    outcome: r.outcome,
    signals: r.signals,
    confidence: r.confidence,
    // Null once the case is erased: the codes stay, the text does not.
    note: r.note,
    createdAt: r.createdAt,
  };
}

/** The case's fields a closing writes: self-reported without review; provisional, with its reviews required fixed, with it. */
export function closingReviewFields(settings: ProgramSettings, c: CaseRow, draw: () => 1 | 2) {
  if (settings.outcomeReview !== 'required') {
    return { outcomeStatus: 'self_reported' as const, reviewedOutcome: null, reviewedSignals: null };
  }
  // Fixed the first time the case closes under review: a reopen and a second close never re-roll it.
  return {
    outcomeStatus: 'provisional' as const,
    reviewedOutcome: null,
    reviewedSignals: null,
    reviewsRequired: c.reviewsRequired ?? draw(),
  };
}

/**
 * `review_requested` at closing under review: nobody is drawn by name, so the program's active
 * leads and analysts hear of it, except anyone who ever held the case (they may not review it).
 */
export async function requestReview(tx: Tx, ctx: Ctx, c: CaseRow): Promise<void> {
  const holders = new Set(await holderIdsOf(tx, c.id));
  const analysts = await listStaffRows(tx, { programId: c.programId, role: 'analyst', active: true, limit: 500 });
  const recipients = [...(await activeLeadIds(tx, c.programId, false)), ...analysts.map((a) => a.id)].filter((id) => !holders.has(id));
  const ids = await notify(tx, recipients, {
    kind: 'review_requested',
    programId: c.programId,
    caseId: c.id,
    subjectId: null,
    // One request per closing: a reopened and re-closed case asks again.
    occurrence: `${c.id}/${c.closedAt?.toISOString() ?? ''}`,
  });
  ctx.jobs.push(...(await webhookJobs(tx, c.programId, ids)));
}

const notRequired = () => conflict('review.not_required', 'This program does not review outcomes (setting outcomeReview is off).');
const conflictOfInterest = () =>
  conflict('review.conflict_of_interest', 'You have held this case: its outcome must be reviewed by someone who has not.');

function unknownSignalError(signals: readonly string[], codebook: readonly string[]) {
  const unknown = unknownSignals(signals, codebook);
  if (unknown.length === 0) return;
  throw new DomainError(400, 'review.unknown_signal', 'Signals must come from the program’s signalCodebook.', {
    errors: unknown.map((s) => ({ path: `body.signals.${signals.indexOf(s)}`, message: 'is not in the signalCodebook' })),
  });
}

/** A case of the caller's program, locked for a review write; 404 outside it, 409 once erased. */
async function loadForReview(tx: Tx, ctx: Ctx, caseId: string) {
  const programId = ctx.principal.programId;
  const c = programId ? await findCaseOfProgram(tx, programId, caseId, { lock: true }) : undefined;
  if (!c) throw notFound('case');
  if (c.erasedAt) throw new DomainError(409, 'case.erased', 'This case was erased; nothing more may be written to it.');
  return { c, settings: await programSettings(tx, c.programId) };
}

const reviewsOnly = (rows: ReviewRow[]) => rows.filter((r) => r.kind === 'review');

/**
 * POST /v1/cases/{id}/outcome-reviews: a lead, analyst or intervener of the program who never
 * held the case, once per case; the first `reviewsRequired` reviews of the closing decide it.
 */
export async function submitReview(tx: Tx, ctx: Ctx, caseId: string, input: ReviewInput) {
  const { c, settings } = await loadForReview(tx, ctx, caseId);
  unknownSignalError(input.signals, settings.signalCodebook);
  checkFreeText(settings, { 'body.note': input.note });
  if (settings.outcomeReview !== 'required') throw notRequired();
  if (c.status !== 'closed' || !c.closedAt || !c.outcomeStatus || !OPEN_REVIEW_STATUSES.includes(c.outcomeStatus)) {
    throw conflict('review.not_open', 'This case is not waiting for review (only a closed, provisional or disputed case is).', {
      outcomeStatus: outcomeStatusOf(c),
    });
  }
  const me = ctx.principal.staffId;
  if ((await holderIdsOf(tx, c.id)).includes(me)) throw conflictOfInterest();
  const duplicate = () => conflict('review.duplicate', 'You have already reviewed this case.');
  if (await hasReviewed(tx, c.id, me, 'review')) throw duplicate();
  checkOutcome(input.outcome, c.stage);
  const now = ctx.clock.now();
  const row = await insertReview(tx, {
    id: uuidv7(),
    caseId: c.id,
    programId: c.programId,
    reviewerId: me,
    kind: 'review',
    outcome: input.outcome,
    signals: [...new Set(input.signals)],
    confidence: input.confidence,
    note: input.note?.trim() ? input.note.trim() : null,
    createdAt: now,
  });
  if (!row) throw duplicate();
  let outcomeStatus: OutcomeStatus = c.outcomeStatus;
  if (c.outcomeStatus === 'provisional') {
    const decision = decide(reviewsOnly(await reviewsOfClosing(tx, c.id, c.closedAt)), c.reviewsRequired ?? 1);
    if (decision.status !== 'provisional') {
      outcomeStatus = decision.status;
      await updateCase(
        tx,
        c.id,
        decision.status === 'confirmed'
          ? { outcomeStatus, reviewedOutcome: decision.outcome, reviewedSignals: decision.signals }
          : { outcomeStatus, reviewedOutcome: null, reviewedSignals: null },
        now,
      );
    }
  }
  ctx.audit(auditEvent(ctx, 'review.create', 'review', row.id, c.programId, c.id));
  return { review: row, outcomeStatus };
}

/** POST /v1/cases/{id}/outcome-adjudication: a lead who never held the case settles a disputed one. */
export async function adjudicate(tx: Tx, ctx: Ctx, caseId: string, input: AdjudicationInput) {
  const { c, settings } = await loadForReview(tx, ctx, caseId);
  unknownSignalError(input.signals, settings.signalCodebook);
  checkFreeText(settings, { 'body.note': input.note });
  if (c.outcomeStatus !== 'disputed' || c.status !== 'closed') {
    throw conflict('review.not_disputed', 'Only a case whose reviews disagree is adjudicated.', { outcomeStatus: outcomeStatusOf(c) });
  }
  const me = ctx.principal.staffId;
  if ((await holderIdsOf(tx, c.id)).includes(me)) throw conflictOfInterest();
  checkOutcome(input.outcome, c.stage);
  const now = ctx.clock.now();
  const signals = [...new Set(input.signals)];
  const row = await insertReview(tx, {
    id: uuidv7(),
    caseId: c.id,
    programId: c.programId,
    reviewerId: me,
    kind: 'adjudication',
    outcome: input.outcome,
    signals,
    confidence: null,
    note: input.note.trim(),
    createdAt: now,
  });
  if (!row) throw conflict('review.duplicate', 'You have already adjudicated this case.');
  await updateCase(tx, c.id, { outcomeStatus: 'adjudicated', reviewedOutcome: input.outcome, reviewedSignals: signals }, now);
  ctx.audit(auditEvent(ctx, 'review.adjudicate', 'review', row.id, c.programId, c.id));
  return { review: row, outcomeStatus: 'adjudicated' as const };
}

/**
 * GET /v1/cases/{id}/outcome-reviews: blind until the caller's own review is in; a lead sees
 * all once the required number is in. Audited as a read of the case.
 */
export async function listReviews(db: Db, ctx: Ctx, caseId: string) {
  const programId = ctx.principal.programId;
  const c = programId ? await findCaseOfProgram(db, programId, caseId) : undefined;
  if (!c) throw notFound('case');
  const rows = c.status === 'closed' && c.closedAt ? await reviewsOfClosing(db, c.id, c.closedAt) : [];
  const me = ctx.principal.staffId;
  const reviewsIn = reviewsOnly(rows).length;
  const required = c.reviewsRequired ?? 1;
  const all = seesAllReviews({
    isLead: ctx.principal.role === 'lead',
    ownIn: rows.some((r) => r.reviewerId === me && r.kind === 'review'),
    reviewsIn,
    required,
    settled: c.outcomeStatus !== null && !['provisional', 'self_reported'].includes(c.outcomeStatus),
  });
  const items = all ? rows : rows.filter((r) => r.reviewerId === me);
  ctx.audit(auditEvent(ctx, 'review.list', 'case', c.id, c.programId));
  return { caseId: c.id, outcomeStatus: outcomeStatusOf(c), reviewsRequired: c.reviewsRequired, reviewsIn, items };
}

/** What a reviewer may read of a case: anonymous facts and its (unvoided) touchpoints' metadata and summaries. */
async function reviewPacket(db: Db, c: CaseRow, codebook: readonly string[]) {
  const touchpoints = (await listTouchpointsOf(db, c.id, 500)).filter((t) => t.voidedAt === null);
  const reviewsIn = c.closedAt ? reviewsOnly(await reviewsOfClosing(db, c.id, c.closedAt)).length : 0;
  return {
    caseId: c.id,
    ideology: c.ideology,
    riskLevel: c.riskLevel,
    platform: c.platform,
    stage: c.stage,
    touchpointCount: c.touchpointCount,
    inboundCount: c.inboundCount,
    outcome: c.outcome,
    outcomeStatus: outcomeStatusOf(c),
    closedAt: c.closedAt,
    reviewsRequired: c.reviewsRequired ?? 1,
    reviewsIn,
    /** The codes a review of this case may name (the program's signalCodebook). */
    signalCodebook: [...codebook],
    touchpoints: touchpoints.map((t) => ({
      id: t.id,
      direction: t.direction,
      channel: t.channel,
      occurredAt: t.occurredAt,
      approaches: t.approaches ?? [],
      sentiment: t.sentiment,
      summary: t.summary,
    })),
  };
}

export type ReviewPacket = Awaited<ReturnType<typeof reviewPacket>>;

/**
 * GET /v1/reviews/pending: closed, provisional cases of the caller's program they never held and
 * have not reviewed, each with what review needs and nothing of the profile's identity.
 */
export async function pendingReviews(db: Db, ctx: Ctx, page: { limit: number; after?: string }): Promise<ReviewPacket[]> {
  const programId = ctx.principal.programId;
  if (!programId) return [];
  const me = ctx.principal.staffId;
  const rows = await casesAwaitingReviewBy(
    db,
    { programId, staffId: me, outcomeStatus: 'provisional', exclude: await reviewedCaseIds(db, programId, me), after: page.after },
    page.limit + 1,
  );
  const codebook = (await programSettings(db, programId)).signalCodebook;
  const packets: ReviewPacket[] = [];
  for (const c of rows) packets.push(await reviewPacket(db, c, codebook));
  ctx.audit(
    ...listReadEvents(
      ctx,
      'review.pending.list',
      'case',
      programId,
      rows.slice(0, page.limit).map((r) => r.id),
    ),
  );
  return packets;
}
