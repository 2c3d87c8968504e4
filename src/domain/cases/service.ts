import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { profileXactLock } from '../../db/locks.js';
import type { Indicator } from '../../db/schema/index.js';
import { auditEvent, listReadEvents } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { DomainError, forbidden, invalid, notFound } from '../errors.js';
import { cancelOutstanding, reassignOutstanding } from '../followups/store.js';
import { notify } from '../notifications/notify.js';
import { type ProgramSettings, programSettings } from '../programs/settings.js';
import { webhookJobs } from '../reminders/jobs.js';
import { absenceAt, findStaffMember, lockIntervener } from '../staff/store.js';
import { hasBaselineAssessment } from '../assessments/store.js';
import { addHandoverNote } from '../notes/service.js';
import { allocationFor } from '../trials/service.js';
import { oweDebrief, weeklyExposure } from '../welfare/service.js';
import { outcomeStatusOf, reviewsRequiredFor } from '../reviews/rules.js';
import { closingReviewFields, requestReview } from '../reviews/service.js';
import { hasReferral } from '../referrals/store.js';
import { checkFreeText } from '../text/identifiers.js';
import { isSuppressed, normaliseHandle, type Platform } from './profile.js';
import { OPEN_STATUSES } from './rules.js';
import {
  type CaseChanges,
  type CaseRow,
  type CaseWithProfile,
  countActiveCasesOf,
  endOpenAssignments,
  findCaseInScope,
  insertAssignment,
  insertCase,
  insertCaseEvent,
  insertProfile,
  latestCaseEventOf,
  listCaseEvents,
  listCasesInScope,
  openCaseOfProfile,
  shareLockCase,
  updateCase,
  updateProfile,
} from './store.js';
import { type CaseAction, type CaseStatus, checkOutcome, checkTransition } from './workflow.js';

export type { CaseRow, CaseWithProfile, ProfileRow } from './store.js';

const CLOCK_SKEW_MS = 60_000;

export function toCaseView({ case: c, profile: p }: CaseWithProfile) {
  return {
    id: c.id,
    programId: c.programId,
    status: c.status,
    stage: c.stage,
    profile: { platform: p.platform, handle: p.handle, url: p.url, displayName: p.displayName, language: p.language },
    ideology: c.ideology,
    riskLevel: c.riskLevel,
    indicators: c.indicators.map((i) => ({ kind: i.kind, evidenceUrl: i.evidenceUrl ?? null, note: i.note ?? null })),
    assigneeId: c.assigneeId,
    flaggedAt: c.flaggedAt,
    acceptedAt: c.acceptedAt,
    approvedAt: c.approvedAt,
    contactedAt: c.contactedAt,
    respondedAt: c.respondedAt,
    sustainedAt: c.sustainedAt,
    lastTouchpointAt: c.lastTouchpointAt,
    closedAt: c.closedAt,
    outcome: c.outcome,
    outcomeStatus: outcomeStatusOf(c),
    // The holder's suggested opening approach while the case is in a trial; fixed for good.
    trial: c.trialId ? { trialId: c.trialId, arm: c.trialArm!, allocatedAt: c.trialAllocatedAt! } : null,
    // As the flagger attested it; null when the case was flagged without an attestation.
    publicness:
      c.publicnessCheckedAt === null
        ? null
        : { accountPublic: c.accountPublic ?? false, contentPublic: c.contentPublic ?? false, checkedAt: c.publicnessCheckedAt },
    referredAt: c.referredAt,
    erased: c.erasedAt !== null,
    version: c.version,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export { programSettings } from '../programs/settings.js';

export interface CreateCaseInput {
  programId: string;
  profile: { platform: Platform; handle: string; url?: string | null; displayName?: string | null; language?: string | null };
  ideology: CaseRow['ideology'];
  riskLevel: CaseRow['riskLevel'];
  indicators: Indicator[];
  flaggedAt?: Date;
  /** The flagger's check that the account and the content were public (required under `requirePublicnessAttestation`). */
  publicness?: { accountPublic: boolean; contentPublic: boolean; checkedAt: Date } | null;
}

/** Indicator notes are free text: no handle or link (the evidence link has its own field). */
function indicatorNotes(indicators: readonly Indicator[] | undefined): Record<string, string | null | undefined> {
  return Object.fromEntries((indicators ?? []).map((ind, i) => [`body.indicators.${i}.note`, ind.note]));
}

export async function createCase(tx: Tx, ctx: Ctx, input: CreateCaseInput): Promise<CaseWithProfile> {
  const p = ctx.principal;
  if (p.programId !== input.programId) throw notFound('program');
  const now = ctx.clock.now();
  const flaggedAt = input.flaggedAt ?? now;
  if (flaggedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw invalid('case.flagged_in_future', 'flaggedAt may be in the past, never in the future.', 'body.flaggedAt');
  }
  const settings = await programSettings(tx, input.programId);
  const attested = input.publicness ?? null;
  if (attested && attested.checkedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw invalid(
      'case.publicness_in_future',
      'publicness.checkedAt may be in the past, never in the future.',
      'body.publicness.checkedAt',
    );
  }
  if (settings.requirePublicnessAttestation && !(attested?.accountPublic && attested.contentPublic)) {
    throw new DomainError(
      422,
      'case.publicness_unattested',
      'The program flags only public profiles: attest that the account and the content were public when you checked.',
      { errors: [{ path: 'body.publicness', message: 'needs accountPublic and contentPublic both true' }] },
    );
  }
  checkFreeText(settings, indicatorNotes(input.indicators));
  const normalised = normaliseHandle(input.profile.platform, input.profile.handle, input.profile.url);
  if (!normalised.ok) throw invalid('profile.invalid_handle', normalised.reason, `body.profile.${normalised.field}`);
  const handle = normalised.handle;
  if (await isSuppressed(tx, ctx.secret, input.profile.platform, handle, input.profile.handle)) {
    throw new DomainError(422, 'profile.suppressed', 'This profile was erased on request and may not be flagged again.');
  }
  // Serialise flagging of the same profile so two analysts cannot open it twice.
  await tx.execute(profileXactLock(`${input.programId}/${input.profile.platform}/${handle}`));
  const dupCaseId = await openCaseOfProfile(tx, input.programId, input.profile.platform, handle);
  if (dupCaseId) {
    throw new DomainError(409, 'case.duplicate', 'This profile already has an open case in the program.', { caseId: dupCaseId });
  }
  const id = uuidv7();
  const c = await insertCase(tx, {
    id,
    programId: input.programId,
    ideology: input.ideology,
    riskLevel: input.riskLevel,
    platform: input.profile.platform,
    indicators: input.indicators,
    flaggedAt,
    flaggedBy: p.staffId,
    accountPublic: attested?.accountPublic ?? null,
    contentPublic: attested?.contentPublic ?? null,
    publicnessCheckedAt: attested?.checkedAt ?? null,
  });
  const prof = await insertProfile(tx, {
    caseId: id,
    programId: input.programId,
    platform: input.profile.platform,
    handle,
    url: input.profile.url ?? null,
    displayName: input.profile.displayName ?? null,
    language: input.profile.language?.toLowerCase() ?? null,
  });
  await recordEvent(tx, ctx, c, 'flagged', null, 'flagged');
  ctx.audit(auditEvent(ctx, 'case.create', 'case', id, input.programId));
  return { case: c, profile: prof };
}

async function recordEvent(
  tx: Tx,
  ctx: Ctx,
  c: CaseRow,
  kind: string,
  from: CaseStatus | null,
  to: CaseStatus | null,
  reason: string | null = null,
  data: Record<string, unknown> | null = null,
) {
  await insertCaseEvent(tx, {
    caseId: c.id,
    programId: c.programId,
    actorId: ctx.principal.staffId,
    kind,
    fromStatus: from,
    toStatus: to,
    reason,
    data,
    at: ctx.clock.now(),
  });
}

/** Reads a case in the caller's scope; `lock` takes the row for the rest of the transaction. */
export async function loadCase(tx: Tx, ctx: Ctx, id: string, opts: { lock?: boolean } = {}): Promise<CaseWithProfile> {
  const found = await findCaseInScope(tx, ctx.principal, id, opts);
  if (!found) throw notFound('case');
  return found;
}

export const caseErased = () => new DomainError(409, 'case.erased', 'This case was erased; nothing more may be written to it.');

/**
 * Loads a case for a write and locks it: erasure takes the same lock, so a write either commits
 * before an erasure (and is erased with it) or finds the case erased and is refused.
 */
export async function loadCaseForWrite(tx: Tx, ctx: Ctx, id: string): Promise<CaseWithProfile> {
  const found = await loadCase(tx, ctx, id, { lock: true });
  if (found.case.erasedAt) throw caseErased();
  return found;
}

/** For a write that reaches a case through another row (a follow-up, a concern): holds it against erasure. */
export async function holdCaseAgainstErasure(tx: Tx, caseId: string): Promise<void> {
  const row = await shareLockCase(tx, caseId);
  if (!row || row.erasedAt) throw caseErased();
}

export async function readCase(tx: Tx, ctx: Ctx, id: string): Promise<CaseWithProfile> {
  const found = await loadCase(tx, ctx, id);
  ctx.audit(auditEvent(ctx, 'case.read', 'case', id, found.case.programId));
  return found;
}

export interface CaseFilter {
  status?: CaseStatus;
  stage?: CaseRow['stage'];
  assigneeId?: string;
  ideology?: CaseRow['ideology'];
  platform?: Platform;
  riskLevel?: CaseRow['riskLevel'];
  /** Leads only: active cases whose holder is deactivated. */
  orphaned?: boolean;
  limit: number;
  after?: string;
}

export async function listCases(tx: Tx, ctx: Ctx, f: CaseFilter): Promise<CaseWithProfile[]> {
  const { limit, ...filter } = f;
  if (filter.orphaned !== undefined && ctx.principal.role !== 'lead') throw forbidden('Only leads list orphaned cases.');
  const rows = await listCasesInScope(tx, ctx.principal, filter, limit + 1);
  ctx.audit(
    ...listReadEvents(
      ctx,
      'case.list',
      'case',
      ctx.principal.programId,
      rows.slice(0, f.limit).map((r) => r.case.id),
    ),
  );
  return rows;
}

export interface CasePatch {
  riskLevel?: CaseRow['riskLevel'];
  ideology?: CaseRow['ideology'];
  indicators?: Indicator[];
  profile?: { language?: string | null };
}

/** `expected` is If-Match, applied to the version found under the lock. */
export async function patchCase(
  tx: Tx,
  ctx: Ctx,
  id: string,
  expected: (version: number) => boolean,
  patch: CasePatch,
): Promise<CaseWithProfile> {
  const current = await loadCaseForWrite(tx, ctx, id);
  if (!expected(current.case.version)) {
    throw new DomainError(412, 'precondition.failed', 'The case changed since you read it; fetch it again.', {
      currentVersion: current.case.version,
    });
  }
  if (patch.indicators) checkFreeText(await programSettings(tx, current.case.programId), indicatorNotes(patch.indicators));
  const changed = Object.keys(patch).filter((k) => k !== 'profile');
  const c = await updateCase(
    tx,
    id,
    {
      ...(patch.riskLevel ? { riskLevel: patch.riskLevel } : {}),
      ...(patch.ideology ? { ideology: patch.ideology } : {}),
      ...(patch.indicators ? { indicators: patch.indicators } : {}),
    },
    ctx.clock.now(),
    current.case.version,
  );
  let profile = current.profile;
  if (patch.profile && 'language' in patch.profile) {
    changed.push('profile.language');
    profile = await updateProfile(tx, id, { language: patch.profile.language?.toLowerCase() ?? null });
  }
  // Field names only: values may carry notes about the person.
  await recordEvent(tx, ctx, c!, 'edited', null, null, null, { fields: changed });
  ctx.audit(auditEvent(ctx, 'case.update', 'case', id, c!.programId));
  return { case: c!, profile };
}

async function transition(
  tx: Tx,
  ctx: Ctx,
  id: string,
  action: CaseAction,
  apply: (current: CaseWithProfile, to: CaseStatus, settings: ProgramSettings) => Promise<CaseChanges>,
  reason: string | null,
  data: Record<string, unknown> | null = null,
): Promise<CaseWithProfile> {
  const current = await loadCaseForWrite(tx, ctx, id);
  const settings = await programSettings(tx, current.case.programId);
  const to = checkTransition(action, current.case.status, settings);
  // Reasons and notes stay in the case history: they may not name anyone or link anywhere.
  checkFreeText(settings, { [action === 'approve' || action === 'close' ? 'body.note' : 'body.reason']: reason });
  const changes = await apply(current, to, settings);
  const now = ctx.clock.now();
  const c = await updateCase(tx, id, { ...changes, status: to }, now);
  const open = OPEN_STATUSES.includes(to);
  let profile = current.profile;
  if (open !== current.profile.open) {
    profile = await updateProfile(tx, id, { open });
  }
  await recordEvent(tx, ctx, c!, action, current.case.status, to, reason, data);
  ctx.audit(auditEvent(ctx, `case.${action}`, 'case', id, c!.programId));
  return { case: c!, profile };
}

export function triage(tx: Tx, ctx: Ctx, id: string, decision: 'accept' | 'reject', reason: string) {
  const now = ctx.clock.now();
  return transition(
    tx,
    ctx,
    id,
    decision === 'accept' ? 'triage_accept' : 'triage_reject',
    async () => (decision === 'accept' ? { acceptedAt: now } : {}),
    reason,
  );
}

/** Under `requireBaselineAssessment`, first contact waits for a baseline assessment (approval, or a first assignment). */
async function checkBaseline(tx: Tx, settings: ProgramSettings, caseId: string) {
  if (settings.requireBaselineAssessment && !(await hasBaselineAssessment(tx, caseId))) {
    throw new DomainError(409, 'case.baseline_missing', 'The program requires a baseline assessment of the case first.');
  }
}

export function approve(tx: Tx, ctx: Ctx, id: string, note: string | null) {
  const now = ctx.clock.now();
  return transition(
    tx,
    ctx,
    id,
    'approve',
    async (current, _to, settings) => {
      await checkBaseline(tx, settings, current.case.id);
      return { approvedAt: now };
    },
    note,
  );
}

/** Open cases an intervener holds, counted in SQL. */
export async function openCaseload(tx: Tx, staffId: string): Promise<number> {
  return countActiveCasesOf(tx, staffId);
}

async function startAssignment(
  tx: Tx,
  ctx: Ctx,
  c: CaseRow,
  staffId: string,
  extra: { override?: boolean; overrideReason?: string | null; handoverNote?: string | null },
) {
  const now = ctx.clock.now();
  await endOpenAssignments(tx, c.id, now);
  const assignmentId = uuidv7();
  await insertAssignment(tx, {
    id: assignmentId,
    caseId: c.id,
    staffId,
    assignedBy: ctx.principal.staffId,
    startedAt: now,
    override: extra.override ?? false,
    overrideReason: extra.overrideReason ?? null,
  });
  await reassignOutstanding(tx, c.id, staffId);
  const handoverNote = extra.handoverNote?.trim() ? extra.handoverNote : null;
  if (handoverNote) await addHandoverNote(tx, ctx, c.id, handoverNote);
  const ids = await notify(tx, [staffId], {
    kind: 'case_assigned',
    programId: c.programId,
    caseId: c.id,
    subjectId: assignmentId,
    occurrence: assignmentId,
    hasHandoverNote: handoverNote !== null,
  });
  ctx.jobs.push(...(await webhookJobs(tx, c.programId, ids)));
}

export interface AssignInput {
  intervenerId: string;
  override?: boolean;
  reason?: string | null;
  /** Stored as a `handover` note on the case; the receiver's case_assigned says there is one. */
  handoverNote?: string | null;
}

export async function assign(tx: Tx, ctx: Ctx, id: string, input: AssignInput) {
  if (input.override && !input.reason?.trim()) {
    throw invalid('assignment.reason_required', 'An override needs a reason, which is recorded.', 'body.reason');
  }
  // The case history names every limit the override set aside (filled in once they are checked).
  const data = { intervenerId: input.intervenerId, override: input.override ?? false, overridden: [] as string[] };
  return transition(
    tx,
    ctx,
    id,
    'assign',
    async (current, _to, settings) => {
      if (current.case.assigneeId === input.intervenerId && current.case.status === 'active') {
        throw new DomainError(409, 'case.already_assigned', 'The case is already assigned to this intervener.');
      }
      checkFreeText(settings, { 'body.handoverNote': input.handoverNote });
      const first = current.case.assigneeId === null;
      if (first) await checkBaseline(tx, settings, current.case.id);
      // Locking the intervener serialises concurrent assignments to them: the cap holds.
      const holder = await lockIntervener(tx, input.intervenerId, current.case.programId);
      if (!holder) throw invalid('assignment.unknown_intervener', 'No intervener with this id in the program.', 'body.intervenerId');
      if (!holder.active) throw new DomainError(409, 'staff.inactive', 'This intervener is deactivated and cannot take cases.');
      const away = await absenceAt(tx, holder.id, ctx.clock.now());
      if (away && !input.override) {
        throw new DomainError(409, 'staff.absent', `This intervener is absent until ${away.to.toISOString()}.`, {
          absentUntil: away.to.toISOString(),
        });
      }
      const cap = holder.maxCaseload ?? settings.defaultMaxCaseload;
      const load = await openCaseload(tx, holder.id);
      if (load >= cap && !input.override) {
        throw new DomainError(409, 'staff.over_capacity', `This intervener holds ${load} open cases (cap ${cap}).`, {
          openCases: load,
          maxCaseload: cap,
        });
      }
      // Welfare limits (API.md, Intervener welfare): this week's exposure, and topics they opted out of.
      const exposure = (await weeklyExposure(tx, [holder.id], settings, ctx.clock.now())).get(holder.id)!;
      if (exposure.overCap && !input.override) {
        throw new DomainError(
          409,
          'staff.over_exposure',
          `This intervener is over this week's exposure cap (${exposure.exposureMinutes} of ${exposure.capMinutes} minutes).`,
          { exposureMinutes: exposure.exposureMinutes, capMinutes: exposure.capMinutes },
        );
      }
      const avoids = holder.avoid.includes(current.case.ideology);
      if (avoids && !input.override) {
        throw new DomainError(409, 'staff.avoids_topic', 'This intervener has opted out of cases of this ideology.', {
          ideology: current.case.ideology,
        });
      }
      if (load >= cap) data.overridden.push('caseload');
      if (away) data.overridden.push('absence');
      if (exposure.overCap) data.overridden.push('exposure');
      if (avoids) data.overridden.push('topic');
      const overridden = data.overridden.length > 0;
      await startAssignment(tx, ctx, current.case, holder.id, {
        override: overridden,
        overrideReason: overridden ? (input.reason ?? null) : null,
        handoverNote: input.handoverNote ?? null,
      });
      // A first assignment under a running trial allocates the case's arm, in this transaction.
      const allocation = first ? await allocationFor(tx, ctx, current.case) : null;
      return { assigneeId: holder.id, ...allocation };
    },
    input.reason ?? null,
    data,
  );
}

export async function close(tx: Tx, ctx: Ctx, id: string, outcome: NonNullable<CaseRow['outcome']>, note: string | null) {
  const now = ctx.clock.now();
  let underReview = false;
  const closed = await transition(
    tx,
    ctx,
    id,
    'close',
    async (current, _to, settings) => {
      checkOutcome(outcome, current.case.stage);
      if (outcome === 'referred' && !(await hasReferral(tx, id))) {
        throw new DomainError(
          409,
          'case.referral_missing',
          'Closing as `referred` needs a referral of the case (POST /v1/cases/{id}/referrals).',
        );
      }
      await endOpenAssignments(tx, id, now);
      // Nothing is due on a closed case.
      await cancelOutstanding(tx, id, now);
      underReview = settings.outcomeReview === 'required';
      const review = closingReviewFields(settings, current.case, () => reviewsRequiredFor(ctx.secret, id, settings.secondCoderRate));
      return { closedAt: now, outcome, ...review };
    },
    note,
    { outcome },
  );
  if (underReview) await requestReview(tx, ctx, closed.case);
  // Closing as unsafe owes the holder a debrief, once per closing (a reopened and re-closed case is a new event).
  if (outcome === 'unsafe_to_continue') {
    const [closing] = await latestCaseEventOf(tx, id, 'close');
    await oweDebrief(tx, ctx, {
      staffId: closed.case.assigneeId,
      programId: closed.case.programId,
      caseId: id,
      reason: 'unsafe_closure',
      sourceId: closing?.id ?? id,
    });
  }
  return closed;
}

export async function reopen(tx: Tx, ctx: Ctx, id: string, reason: string) {
  return transition(
    tx,
    ctx,
    id,
    'reopen',
    async (current) => {
      const holderId = current.case.assigneeId;
      const holder = holderId ? await findStaffMember(tx, holderId) : undefined;
      if (!holder?.active) {
        throw new DomainError(409, 'case.no_assignee', 'The last holder is no longer active; reopen needs someone to hold the case.');
      }
      await startAssignment(tx, ctx, current.case, holder.id, {});
      // The review of that closing no longer applies; reviewsRequired stays as drawn.
      return { closedAt: null, outcome: null, outcomeStatus: null, reviewedOutcome: null, reviewedSignals: null };
    },
    reason,
  );
}

export async function caseEventsOf(tx: Tx, ctx: Ctx, id: string, limit: number, after?: string) {
  const found = await loadCase(tx, ctx, id);
  const rows = await listCaseEvents(tx, id, limit + 1, after);
  ctx.audit(auditEvent(ctx, 'case.events.read', 'case', id, found.case.programId));
  return rows;
}
