import { holdExposure, oweDebrief } from '../welfare/service.js';
import { checkOutreachAccount } from '../outreach/service.js';
import { checkFreeText } from '../text/identifiers.js';
import type { Principal } from '../staff/principal.js';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import type { Approach } from '../../db/schema/index.js';
import { auditEvent } from '../audit/log.js';
import { loadCase, loadCaseForWrite } from '../cases/service.js';
import { type CaseRow, insertCaseEvent, writeStageFacts } from '../cases/store.js';
import { checkOutcome } from '../cases/workflow.js';
import type { Ctx } from '../context.js';
import { DomainError, forbidden, invalid, notFound } from '../errors.js';
import { insertFollowUp } from '../followups/schedule.js';
import { hasOutstanding, insertFollowUpRow, scheduledWith, updateOutstandingFollowUp } from '../followups/store.js';
import { loadSettings, ms, type ProgramSettings, resolveSettings } from '../programs/settings.js';
import { followUpDueJob, responseSlaJob } from '../reminders/jobs.js';
import type { Unit } from '../unit-of-work.js';
import { VOID_WINDOW_MS, voidRefusal } from './rules.js';
import {
  deriveStage,
  foldStage,
  foldsAfter,
  noStage,
  type StageFacts,
  type StageRules,
  type TouchpointFact,
  touchpointOrder,
} from './stage.js';
import {
  awaitAgainBefore,
  findTouchpointInScope,
  firstOutboundLoggedAfter,
  insertTouchpoint,
  listTouchpointsOf,
  lockTouchpoint,
  markVoided,
  type NewTouchpoint,
  type HistoryFact,
  type TouchpointRow,
  touchpointHistory,
  touchpointWriteContext,
} from './store.js';

export type { TouchpointRow } from './store.js';

const CLOCK_SKEW_MS = 60_000;

export interface TouchpointInput {
  direction: TouchpointRow['direction'];
  channel: TouchpointRow['channel'];
  occurredAt: Date;
  approaches?: Approach[];
  sentiment?: TouchpointRow['sentiment'];
  costCents?: number | null;
  summary?: string | null;
  minutesSpent?: number | null;
  distressing?: boolean;
  /** The disclosed account an outbound message was sent from (required under `requireOutreachAccount`). */
  outreachAccountId?: string | null;
}

/** `minutesSpent` and `distressing` are welfare data about the logger: theirs and their leads' to see. */
export function toTouchpointView(t: TouchpointRow, viewer: Pick<Principal, 'staffId' | 'role'>) {
  const welfare = viewer.role === 'lead' || viewer.staffId === t.loggedBy;
  return {
    id: t.id,
    caseId: t.caseId,
    direction: t.direction,
    channel: t.channel,
    occurredAt: t.occurredAt,
    approaches: t.approaches ?? [],
    sentiment: t.sentiment,
    costCents: t.costCents,
    summary: t.summary,
    loggedBy: t.loggedBy,
    createdAt: t.createdAt,
    voidedAt: t.voidedAt,
    voidedBy: t.voidedBy,
    voidReason: t.voidReason,
    minutesSpent: welfare ? t.minutesSpent : null,
    distressing: welfare ? t.distressing : null,
    outreachAccountId: t.outreachAccountId,
  };
}

/**
 * Records a message a person sent or received outside the system, and keeps the case's stage,
 * stage timestamps and counters right in the same transaction, whatever order touchpoints
 * arrive in. An outbound message with nothing outstanding schedules the next follow-up.
 */
export async function logTouchpoint(tx: Tx, ctx: Ctx, caseId: string, input: TouchpointInput): Promise<TouchpointRow> {
  const found = await loadCaseForWrite(tx, ctx, caseId);
  const c = found.case;
  const now = ctx.clock.now();
  const allowed = input.direction === 'outbound' ? ['active'] : ['active', 'closed'];
  if (!allowed.includes(c.status)) {
    throw new DomainError(409, 'touchpoint.case_not_active', `Cannot log an ${input.direction} touchpoint on a case that is ${c.status}.`, {
      currentStatus: c.status,
    });
  }
  if (input.occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw invalid('touchpoint.in_future', 'occurredAt may be in the past (logged late), never in the future.', 'body.occurredAt');
  }
  if (input.occurredAt < c.flaggedAt) {
    throw invalid('touchpoint.before_flagged', 'occurredAt cannot be before the case was flagged.', 'body.occurredAt');
  }
  // A touchpoint after the case's last one folds into its stored facts; any other reads the history.
  const id = uuidv7();
  const folds = foldsAfter(c, { id, occurredAt: input.occurredAt });
  const known = await touchpointWriteContext(tx, c, input.occurredAt, !folds);
  const settings = resolveSettings(known.settings);
  checkFreeText(settings, { 'body.summary': input.summary });
  const outreachAccountId = await checkOutreachAccount(tx, settings, c, input.direction, input.outreachAccountId);
  // Time spent raises the logger's exposure: held against an assignment deciding on their cap.
  if (input.minutesSpent) await holdExposure(tx, ctx.principal.staffId);
  const values = {
    id,
    caseId,
    programId: c.programId,
    direction: input.direction,
    channel: input.channel,
    occurredAt: input.occurredAt,
    approaches: input.approaches ? [...new Set(input.approaches)] : null,
    sentiment: input.sentiment ?? null,
    costCents: input.costCents ?? null,
    summary: input.summary ?? null,
    minutesSpent: input.minutesSpent ?? null,
    distressing: input.distressing ?? false,
    outreachAccountId,
    loggedBy: ctx.principal.staffId,
    holderId: known.holderId ?? c.assigneeId,
    awaitingResponse: input.direction === 'inbound' && !known.answered,
    createdAt: now,
  } satisfies NewTouchpoint;
  // The stage facts with this touchpoint counted, decided under the case's lock and written by its
  // insert (which also answers the inbound messages before an outbound one).
  const rules = stageRules(settings);
  const facts = foldsAfter(c, values, rules)
    ? foldStage(storedFacts(c, rules), values, rules)
    : // Logged late, or the rules changed since: derived again from every touchpoint.
      deriveStage(withLogged(known.history ?? (await touchpointHistory(tx, caseId)), values), rules);
  const row = await insertTouchpoint(tx, values, now, facts);

  if (row.awaitingResponse) ctx.jobs.push(responseSlaJob(row, settings, now));

  if (input.direction === 'outbound' && !known.outstanding) {
    // Written at the touchpoint's own instant: a void finds the follow-up this message scheduled by it.
    await insertFollowUp(
      tx,
      { ...ctx, clock: { now: () => new Date(now) } },
      {
        caseId,
        programId: c.programId,
        assigneeId: c.assigneeId,
        dueAt: new Date(input.occurredAt.getTime() + ms(settings, 'followUpAfter')),
        kind: 'follow_up',
      },
    );
  }
  // A distressing or hostile message owes its logger a debrief (an intervener's; once per touchpoint).
  if (row.distressing || row.sentiment === 'hostile') {
    await oweDebrief(tx, ctx, {
      staffId: ctx.principal.staffId,
      programId: c.programId,
      caseId,
      reason: row.distressing ? 'distressing_touchpoint' : 'hostile_touchpoint',
      sourceId: row.id,
    });
  }
  ctx.audit(auditEvent(ctx, 'touchpoint.create', 'touchpoint', row.id, c.programId, caseId));
  return row;
}

export async function listTouchpoints(tx: Tx, ctx: Ctx, caseId: string, page: { limit: number; after?: [string, string] }) {
  const found = await loadCase(tx, ctx, caseId);
  const rows = await listTouchpointsOf(tx, caseId, page.limit + 1, page.after);
  ctx.audit(auditEvent(ctx, 'touchpoint.list', 'case', caseId, found.case.programId));
  return rows;
}

const stageRules = (settings: ProgramSettings): StageRules => ({
  minMessages: settings.sustainedMinMessages,
  minInbound: settings.sustainedMinInbound,
});

/** The stage facts a case row keeps (written only by deriveStage or foldStage, through this module); none counted: noStage. */
function storedFacts(c: CaseRow, rules: StageRules): StageFacts {
  if (c.touchpointCount === 0) return noStage(rules);
  return {
    stage: c.stage,
    contactedAt: c.contactedAt,
    contactedBy: c.contactedBy,
    respondedAt: c.respondedAt,
    respondedBy: c.respondedBy,
    sustainedAt: c.sustainedAt,
    sustainedBy: c.sustainedBy,
    firstOutboundApproaches: c.firstOutboundApproaches,
    firstOutreachAccountId: c.firstOutreachAccountId,
    touchpointCount: c.touchpointCount,
    inboundCount: c.inboundCount,
    outboundCostCents: c.outboundCostCents,
    lastTouchpointAt: c.lastTouchpointAt,
    lastTouchpointDirection: c.lastTouchpointDirection,
    lastTouchpointId: c.lastTouchpointId,
    conversationMessages: c.conversationMessages,
    conversationInbound: c.conversationInbound,
    stageRules: c.stageRules ?? '',
  };
}

/** The case's stage facts from the touchpoints that count, with the program's rules now. */
async function stageFactsOf(tx: Tx, caseId: string, settings: ProgramSettings) {
  return deriveStage(await touchpointHistory(tx, caseId), stageRules(settings));
}

/**
 * A counting history (ordered by occurredAt, then id, as touchpointHistory reads it) with a
 * touchpoint about to be inserted in its place: what touchpointHistory would read after the insert.
 */
export function withLogged(history: readonly HistoryFact[], t: HistoryFact): TouchpointFact[] {
  let i = history.length;
  while (i > 0 && touchpointOrder(history[i - 1]!, t) > 0) i--;
  return [...history.slice(0, i), t, ...history.slice(i)];
}

/**
 * Marks a touchpoint as logged in error (its logger within VOID_WINDOW_MS, or a lead) and puts the
 * case back as if it had never been logged: stage, stage times, holders and counters derived again
 * by deriveStage from what remains (the case row's trigger marks it for the report rollups). The
 * touchpoint stays readable with who voided it and why.
 *
 * What else follows from "never logged":
 * - a voided inbound message waits for no response (no SLA reminder for it); the case's last
 *   message, and so the caseload's "awaiting reply", is whatever remains;
 * - a voided outbound message answered nothing: the inbound messages before it that no other
 *   outbound answered wait for a response again (their SLA reminder fires, at once if already
 *   late, unless it fired before), and the follow-up it scheduled, if still outstanding, is
 *   cancelled; when that leaves nothing outstanding on an active case, the next outbound message
 *   logged after it schedules its follow-up as it would have done (same logger, same instant);
 * - a closed case keeps an outcome only the stage still allows (409 case.invalid_outcome: reopen first).
 * An intervener reaches only touchpoints of cases in their scope now: one who logged it but no
 * longer holds the case gets 404, like any other read of it.
 */
export async function voidTouchpoint(uow: Unit<'write'>, id: string, reason: string): Promise<TouchpointRow> {
  const { tx, principal } = uow;
  const found = await findTouchpointInScope(tx, principal, id);
  if (!found) throw notFound('touchpoint');
  // The case lock first, as logging takes it: a void and a log on one case run one after the other.
  const { case: c } = await loadCaseForWrite(tx, uow, found.caseId);
  const t = await lockTouchpoint(tx, id);
  if (!t) throw notFound('touchpoint');
  const now = uow.clock.now();
  const refusal = voidRefusal(principal, t, now);
  if (refusal === 'role') throw forbidden();
  if (refusal === 'not_logger') {
    throw new DomainError(403, 'touchpoint.not_logger', 'Only the person who logged this touchpoint, or a lead, may void it.');
  }
  if (refusal === 'window_closed') {
    throw new DomainError(
      403,
      'touchpoint.void_window_closed',
      `A touchpoint may be voided by its logger within ${VOID_WINDOW_MS / 86_400_000} days of logging it; ask a lead.`,
      { loggedAt: t.createdAt.toISOString() },
    );
  }
  const settings = await loadSettings(tx, c.programId);
  // The reason stays readable after erasure of nothing else: it may not name anyone either.
  checkFreeText(settings, { 'body.reason': reason });
  const voided = await markVoided(tx, id, { at: now, by: principal.staffId, reason });
  if (!voided) {
    throw new DomainError(409, 'touchpoint.already_void', 'This touchpoint was voided already.', {
      voidedAt: t.voidedAt?.toISOString() ?? null,
    });
  }

  const facts = await stageFactsOf(tx, c.id, settings);
  if (c.status === 'closed' && c.outcome) checkOutcome(c.outcome, facts.stage);
  await writeStageFacts(tx, c.id, now, facts);

  if (voided.direction === 'outbound') {
    for (const waiting of await awaitAgainBefore(tx, c.id, voided.occurredAt)) uow.enqueue(responseSlaJob(waiting, settings, now));
    const scheduled = await scheduledWith(tx, c.id, voided.loggedBy, voided.createdAt);
    if (scheduled) {
      await updateOutstandingFollowUp(tx, scheduled.id, { status: 'cancelled', cancelledAt: now });
      const next = c.status === 'active' ? await firstOutboundLoggedAfter(tx, c.id, voided.createdAt) : undefined;
      if (next && !(await hasOutstanding(tx, c.id))) {
        const row = await insertFollowUpRow(tx, {
          caseId: c.id,
          programId: c.programId,
          assigneeId: c.assigneeId,
          dueAt: new Date(next.occurredAt.getTime() + ms(settings, 'followUpAfter')),
          kind: 'follow_up',
          note: null,
          createdBy: next.loggedBy,
          createdAt: next.createdAt,
        });
        uow.enqueue(followUpDueJob(row, now));
      }
    }
  }

  await insertCaseEvent(tx, {
    caseId: c.id,
    programId: c.programId,
    actorId: principal.staffId,
    kind: 'touchpoint_voided',
    fromStatus: null,
    toStatus: null,
    reason,
    data: { touchpointId: id, direction: voided.direction },
    at: now,
  });
  uow.audit(auditEvent(uow, 'touchpoint.void', 'touchpoint', id, c.programId, c.id));
  return voided;
}
