import { checkFreeText } from '../text/identifiers.js';
import type { Db, Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { listAssessmentsOf } from '../assessments/store.js';
import { auditEvent, listReadEvents } from '../audit/log.js';
import { isSuppressed, normaliseHandle, type Platform, suppressionHash } from '../cases/profile.js';
import {
  addSuppression,
  type CaseRow,
  caseStatusesOf,
  casesOfHandle,
  findCaseOfProgram,
  findProfile,
  listCaseEvents,
} from '../cases/store.js';
import type { Clock } from '../clock.js';
import type { Ctx, JobRequest } from '../context.js';
import { conflict, DomainError, invalid, notFound } from '../errors.js';
import { followUpsOfCase } from '../followups/store.js';
import { activeHoldOf } from '../holds/store.js';
import { listNotesOf } from '../notes/store.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { loadSettings, type ProgramSettings } from '../programs/settings.js';
import { webhookJobsFor } from '../reminders/jobs.js';
import { referralsOfCase } from '../referrals/store.js';
import { eraseCase } from '../retention/erase.js';
import { concernsOfCase, findConcernOfProgram, markDpoReviewed } from '../safeguarding/store.js';
import { listStaffRows, rolesOf } from '../staff/store.js';
import { listTouchpointsOf } from '../touchpoints/store.js';
import type { DsrResolution, DsrType, Role } from '../vocabulary.js';
import { DUE_SOON_MS, dueAtOf, ERASING_TYPES, extendedUntilOf, isOverdue } from './rules.js';
import {
  casesMatchedBefore,
  claimDsrNotices,
  closeOpenDsr,
  type DsrListStatus,
  type DsrRow,
  extendOpenDsr,
  findDsr,
  insertDsr,
  listDsrOf,
  matchedCaseIds,
} from './store.js';

export type { DsrRow } from './store.js';

const CLOCK_SKEW_MS = 60_000;
/** Per case and kind of record: far above any real case, a bound all the same. */
const PER_CASE = 10_000;
const KEYED_HASH_ONLY =
  'This case was erased: Overture holds no identity or free text of it, only a keyed hash of the profile on the suppression list (so it is never flagged again) and anonymous counts.';

export type MatchStatus = CaseRow['status'] | 'erased';
export interface DsrView {
  id: string;
  programId: string;
  type: DsrType;
  status: DsrRow['status'];
  receivedAt: Date;
  dueAt: Date;
  extendedUntil: Date | null;
  extensionReason: string | null;
  overdue: boolean;
  matches: { caseId: string; status: MatchStatus }[];
  suppressed: boolean;
  note: string | null;
  resolution: DsrResolution | null;
  resolutionNote: string | null;
  closedAt: Date | null;
  createdAt: Date;
}

/** A dpo or lead of a program: the one whose requests they may see. */
function programOfCaller(ctx: Ctx): string {
  const p = ctx.principal;
  if ((p.role !== 'dpo' && p.role !== 'lead') || !p.programId) throw notFound('dsr');
  return p.programId;
}

async function matchesOf(tx: Tx, programId: string, caseIds: readonly string[]): Promise<DsrView['matches']> {
  const statuses = await caseStatusesOf(tx, programId, caseIds);
  return caseIds.flatMap((caseId) => {
    const s = statuses.get(caseId);
    return s ? [{ caseId, status: s.erasedAt ? ('erased' as const) : s.status }] : [];
  });
}

async function viewsOf(tx: Tx, rows: readonly DsrRow[], now: Date): Promise<DsrView[]> {
  const matched = await matchedCaseIds(
    tx,
    rows.map((r) => r.id),
  );
  const out: DsrView[] = [];
  for (const r of rows) out.push(toDsrView(r, await matchesOf(tx, r.programId, matched.get(r.id) ?? []), now));
  return out;
}

export function toDsrView(r: DsrRow, matches: DsrView['matches'], now: Date): DsrView {
  return {
    id: r.id,
    programId: r.programId,
    type: r.type,
    status: r.status,
    receivedAt: r.receivedAt,
    dueAt: r.dueAt,
    extendedUntil: r.extendedUntil,
    extensionReason: r.extensionReason,
    overdue: isOverdue(r, now),
    matches,
    suppressed: r.suppressed,
    note: r.note,
    resolution: r.resolution,
    resolutionNote: r.resolutionNote,
    closedAt: r.closedAt,
    createdAt: r.createdAt,
  };
}

export interface NewDsr {
  programId: string;
  type: DsrType;
  profile: { platform: Platform; handle: string };
  receivedAt: Date;
  note?: string | null;
}

/**
 * POST /v1/dsr: a request names a profile, never a case. It matches, with flagging's own
 * normalisation, every case of the program whose profile holds the handle (open or closed), the
 * cases earlier requests about the same subject matched (erased since), and the suppression list
 * (`suppressed`: an earlier erasure left only a keyed hash). Only that hash is stored.
 */
export async function createDsr(tx: Tx, ctx: Ctx, input: NewDsr): Promise<DsrView> {
  const p = ctx.principal;
  if ((p.role !== 'dpo' && p.role !== 'lead') || p.programId !== input.programId) throw notFound('program');
  const now = ctx.clock.now();
  if (input.receivedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw invalid('dsr.received_in_future', 'receivedAt may be in the past, never in the future.', 'body.receivedAt');
  }
  // The request itself names the subject by hash only: its note may not carry the handle or a link.
  checkFreeText(await loadSettings(tx, input.programId), { 'body.note': input.note });
  const { platform } = input.profile;
  const normalised = normaliseHandle(platform, input.profile.handle);
  if (!normalised.ok) throw invalid('profile.invalid_handle', normalised.reason, 'body.profile.handle');
  const subjectHash = suppressionHash(ctx.secret, platform, normalised.handle);
  const suppressed = await isSuppressed(tx, ctx.secret, platform, normalised.handle, input.profile.handle);
  const live = await casesOfHandle(tx, input.programId, platform, normalised.handle);
  const before = await casesMatchedBefore(tx, input.programId, platform, subjectHash);
  const caseIds = [...new Set([...live, ...before])].sort();
  const row = await insertDsr(
    tx,
    {
      id: uuidv7(),
      programId: input.programId,
      type: input.type,
      platform,
      subjectHash,
      receivedAt: input.receivedAt,
      dueAt: dueAtOf(input.receivedAt),
      suppressed,
      note: input.note?.trim() ? input.note.trim() : null,
      createdBy: p.staffId,
    },
    caseIds,
  );
  ctx.audit({ ...auditEvent(ctx, 'dsr.create', 'dsr', row.id, input.programId), caseIds: caseIds.length > 0 ? caseIds : null });
  return toDsrView(row, await matchesOf(tx, input.programId, caseIds), now);
}

/** A request of the caller's program; another program's, or none, is 404. */
async function dsrOfCaller(tx: Tx, ctx: Ctx, id: string, opts: { lock?: boolean } = {}): Promise<DsrRow> {
  const programId = programOfCaller(ctx);
  const row = await findDsr(tx, id, opts);
  if (!row || row.programId !== programId) throw notFound('dsr');
  return row;
}

export async function getDsr(tx: Tx, ctx: Ctx, id: string): Promise<DsrView> {
  const row = await dsrOfCaller(tx, ctx, id);
  const [view] = await viewsOf(tx, [row], ctx.clock.now());
  ctx.audit({
    ...auditEvent(ctx, 'dsr.read', 'dsr', id, row.programId),
    caseIds: view!.matches.length ? view!.matches.map((m) => m.caseId) : null,
  });
  return view!;
}

/** GET /v1/dsr: the program's requests, soonest effective due date first. */
export async function listDsr(
  tx: Tx,
  ctx: Ctx,
  f: { status?: DsrListStatus; limit: number; after?: readonly [string, string] },
): Promise<DsrView[]> {
  const programId = programOfCaller(ctx);
  const now = ctx.clock.now();
  const rows = await listDsrOf(tx, { programId, status: f.status, now, limit: f.limit + 1, after: f.after });
  const views = await viewsOf(tx, rows, now);
  ctx.audit(
    ...listReadEvents(
      ctx,
      'dsr.list',
      'program',
      programId,
      views.flatMap((v) => v.matches.map((m) => m.caseId)),
    ),
  );
  return views;
}

/** POST /v1/dsr/{id}/extend: once, by two calendar months from dueAt. */
export async function extendDsr(tx: Tx, ctx: Ctx, id: string, reason: string): Promise<DsrView> {
  const found = await dsrOfCaller(tx, ctx, id, { lock: true });
  if (found.status !== 'open') throw conflict('dsr.closed', 'This request is closed.');
  if (found.extendedUntil) throw conflict('dsr.already_extended', 'A request may be extended once only.');
  checkFreeText(await loadSettings(tx, found.programId), { 'body.reason': reason });
  const row = await extendOpenDsr(tx, id, extendedUntilOf(found.dueAt), reason);
  ctx.audit(auditEvent(ctx, 'dsr.extend', 'dsr', id, found.programId));
  const [view] = await viewsOf(tx, [row!], ctx.clock.now());
  return view!;
}

/**
 * POST /v1/dsr/{id}/close. Fulfilling an objection or an erasure erases every match still
 * holding data and puts the subject on the suppression list (never flagged again), all in this
 * transaction: a match on hold refuses it (409 `case.on_hold`) and nothing changes.
 */
export async function closeDsr(tx: Tx, ctx: Ctx, id: string, input: { resolution: DsrResolution; note: string }): Promise<DsrView> {
  const found = await dsrOfCaller(tx, ctx, id, { lock: true });
  checkFreeText(await loadSettings(tx, found.programId), { 'body.note': input.note });
  if (found.status !== 'open') throw conflict('dsr.closed', 'This request is closed already.');
  const now = ctx.clock.now();
  const caseIds = (await matchedCaseIds(tx, [id])).get(id) ?? [];
  if (input.resolution === 'fulfilled' && ERASING_TYPES.includes(found.type)) {
    const live = (await matchesOf(tx, found.programId, caseIds)).filter((m) => m.status !== 'erased');
    for (const m of live) {
      const hold = await activeHoldOf(tx, m.caseId, now);
      if (hold) {
        throw new DomainError(409, 'case.on_hold', `A matched case is on hold (${hold.reason}); release the hold before fulfilling.`, {
          caseId: m.caseId,
          holdId: hold.id,
          reason: hold.reason,
        });
      }
    }
    for (const m of live) {
      await eraseCase(tx, m.caseId, {
        now,
        suppressWith: ctx.secret,
        actorId: ctx.principal.staffId,
        requestId: ctx.requestId,
        reason: `Data-subject request (${found.type}) fulfilled`,
        action: 'case.erase',
        audit: (entry) => ctx.audit(entry),
      });
    }
    // The subject's own hash: suppressed even when no case matched (an objection to any future flagging).
    await addSuppression(tx, found.subjectHash);
  }
  const row = await closeOpenDsr(tx, id, { resolution: input.resolution, note: input.note, by: ctx.principal.staffId, at: now });
  ctx.audit({ ...auditEvent(ctx, 'dsr.close', 'dsr', id, found.programId), caseIds: caseIds.length > 0 ? caseIds : null });
  const [view] = await viewsOf(tx, [row!], now);
  return view!;
}

/** POST /v1/safeguarding/{id}/dpo-review: a dpo of the program has read the concern's text; exports include it from now on. */
export async function dpoReviewConcern(tx: Tx, ctx: Ctx, concernId: string) {
  const p = ctx.principal;
  if (p.role !== 'dpo' || !p.programId) throw notFound('concern');
  const found = await findConcernOfProgram(tx, p.programId, concernId, { lock: true });
  if (!found) throw notFound('concern');
  const row = await markDpoReviewed(tx, concernId, p.staffId, ctx.clock.now());
  ctx.audit(auditEvent(ctx, 'safeguarding.dpo_review', 'concern', concernId, p.programId, found.caseId));
  return { id: row.id, caseId: row.caseId, dpoReviewedAt: row.dpoReviewedAt!, status: row.status };
}

type RoleOf = (id: string | null | undefined) => Role | null;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An event's data with every staff id replaced by that person's role. */
function withRoles(data: Record<string, unknown> | null, roleOf: RoleOf): Record<string, unknown> | null {
  if (!data) return null;
  const one = (v: unknown) => (typeof v === 'string' && UUID.test(v) && roleOf(v) ? { role: roleOf(v) } : v);
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Array.isArray(v) ? v.map(one) : one(v)]));
}

function uuidsIn(data: Record<string, unknown> | null): string[] {
  if (!data) return [];
  return Object.values(data)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .filter((v): v is string => typeof v === 'string' && UUID.test(v));
}

/** Everything held about one matched case, staff by role only; `leads` notes left out; concern text only once a dpo reviewed it. */
async function exportCase(tx: Tx, programId: string, caseId: string) {
  const c = await findCaseOfProgram(tx, programId, caseId);
  if (!c) return undefined;
  if (c.erasedAt) return { caseId, erased: true as const, erasedAt: c.erasedAt, notice: KEYED_HASH_ONLY };
  const profile = await findProfile(tx, caseId);
  const touchpoints = await listTouchpointsOf(tx, caseId, PER_CASE);
  const notes = await listNotesOf(tx, caseId, ['case'], PER_CASE);
  const followUps = await followUpsOfCase(tx, caseId);
  const assessments = await listAssessmentsOf(tx, caseId, PER_CASE);
  const concerns = await concernsOfCase(tx, caseId);
  const referrals = await referralsOfCase(tx, caseId);
  const events = await listCaseEvents(tx, caseId, PER_CASE);
  const staffIds = [
    c.flaggedBy,
    c.assigneeId,
    ...touchpoints.map((t) => t.loggedBy),
    ...notes.map((n) => n.authorId),
    ...followUps.flatMap((f) => [f.assigneeId, f.createdBy]),
    ...assessments.map((a) => a.assessedBy),
    ...concerns.flatMap((s) => [s.raisedBy, s.acknowledgedBy]),
    ...referrals.map((r) => r.createdBy),
    ...events.flatMap((e) => [e.actorId, ...uuidsIn(e.data ?? null)]),
  ].filter((id): id is string => !!id);
  const roles = await rolesOf(tx, staffIds);
  const roleOf: RoleOf = (id) => (id ? (roles.get(id) ?? null) : null);
  return {
    caseId,
    erased: false as const,
    status: c.status,
    stage: c.stage,
    ideology: c.ideology,
    riskLevel: c.riskLevel,
    flaggedAt: c.flaggedAt,
    flaggedByRole: roleOf(c.flaggedBy),
    heldByRole: roleOf(c.assigneeId),
    closedAt: c.closedAt,
    outcome: c.outcome,
    identity: {
      platform: profile?.platform ?? c.platform,
      handle: profile?.handle ?? null,
      url: profile?.url ?? null,
      displayName: profile?.displayName ?? null,
      language: profile?.language ?? null,
    },
    publicness: { accountPublic: c.accountPublic, contentPublic: c.contentPublic, checkedAt: c.publicnessCheckedAt },
    indicators: c.indicators.map((i) => ({ kind: i.kind, evidenceUrl: i.evidenceUrl ?? null, note: i.note ?? null })),
    touchpoints: touchpoints.map((t) => ({
      direction: t.direction,
      channel: t.channel,
      occurredAt: t.occurredAt,
      approaches: t.approaches ?? [],
      sentiment: t.sentiment,
      summary: t.summary,
      voided: t.voidedAt !== null,
      loggedByRole: roleOf(t.loggedBy),
    })),
    notes: notes.map((n) => ({ kind: n.kind, body: n.body, createdAt: n.createdAt, authorRole: roleOf(n.authorId) })),
    followUps: followUps.map((f) => ({
      kind: f.kind,
      dueAt: f.dueAt,
      status: f.status,
      note: f.note,
      completedAt: f.completedAt,
      assigneeRole: roleOf(f.assigneeId),
    })),
    assessments: assessments.map((a) => ({
      phase: a.phase,
      templateId: a.templateId,
      scores: a.scores,
      note: a.note,
      createdAt: a.createdAt,
      assessorRole: roleOf(a.assessedBy),
    })),
    safeguardingConcerns: concerns.map((s) => {
      const reviewed = s.dpoReviewedAt !== null;
      return {
        id: s.id,
        severity: s.severity,
        status: s.status,
        raisedAt: s.raisedAt,
        raisedByRole: roleOf(s.raisedBy),
        acknowledgedAt: s.acknowledgedAt,
        textIncluded: reviewed,
        concern: reviewed ? s.concern : null,
        actionTaken: reviewed ? s.actionTaken : null,
        acknowledgeNote: reviewed ? s.acknowledgeNote : null,
      };
    }),
    referrals: referrals.map((r) => ({
      to: r.to,
      consent: r.consent,
      basis: r.basis,
      note: r.note,
      status: r.status,
      createdAt: r.createdAt,
      createdByRole: roleOf(r.createdBy),
    })),
    events: events.map((e) => ({
      kind: e.kind,
      fromStatus: e.fromStatus,
      toStatus: e.toStatus,
      at: e.at,
      actorRole: roleOf(e.actorId),
      // An assignment's reason and data say why a limit was overridden (staff welfare: exposure, topics): not the subject's.
      reason: e.kind === 'assign' ? null : e.reason,
      data: e.kind === 'assign' ? null : withRoles(e.data ?? null, roleOf),
    })),
  };
}

/**
 * GET /v1/dsr/{id}/export (a dpo; access requests): everything held about the matched profile,
 * complete for the subject and minimal for everyone else, with the controller's facts and the
 * retention periods. Audited with every case it held.
 */
export async function exportDsr(tx: Tx, ctx: Ctx, id: string) {
  if (ctx.principal.role !== 'dpo') throw notFound('dsr');
  const row = await dsrOfCaller(tx, ctx, id);
  if (row.type !== 'access') throw conflict('dsr.not_access', 'Only an access request has an export.');
  const settings = await loadSettings(tx, row.programId);
  const caseIds = (await matchedCaseIds(tx, [id])).get(id) ?? [];
  const cases = [];
  for (const caseId of caseIds) {
    const one = await exportCase(tx, row.programId, caseId);
    if (one) cases.push(one);
  }
  const pending = cases.flatMap((c) => (c.erased ? [] : c.safeguardingConcerns.filter((s) => !s.textIncluded).map((s) => s.id)));
  ctx.audit({ ...auditEvent(ctx, 'dsr.export', 'dsr', id, row.programId), caseIds: caseIds.length > 0 ? caseIds : null });
  return {
    dsrId: row.id,
    generatedAt: ctx.clock.now(),
    platform: row.platform,
    caseCount: cases.length,
    cases,
    suppressed: row.suppressed,
    keyedHashOnly: row.suppressed || cases.some((c) => c.erased) ? KEYED_HASH_ONLY : null,
    concernsPendingReview: pending,
    dataProtection: settings.dataProtection,
    retention: { neverContacted: settings.retentionNeverContacted, closed: settings.retentionClosed },
    staffShownAs: 'role' as const,
  };
}

const NOTICE_BATCH = 500;

/**
 * The reconcile's DSR deadlines for one program: `dsr_due_soon` once the effective due date is
 * 7 days off, `dsr_overdue` once it has passed, each once per request (the claim marks it in the
 * transaction that notifies), to the program's active dpos and leads.
 */
export async function notifyDsrDeadlines(
  db: Db,
  clock: Clock,
  programId: string,
  settings: ProgramSettings,
): Promise<{ dueSoon: number; overdue: number; jobs: JobRequest[] }> {
  const now = clock.now();
  const out = { dueSoon: 0, overdue: 0, jobs: [] as JobRequest[] };
  for (const which of ['soon', 'overdue'] as const) {
    for (;;) {
      const claimed = await db.transaction(async (tx) => {
        const rows = await claimDsrNotices(tx, programId, which, now, which === 'soon' ? DUE_SOON_MS : 0, NOTICE_BATCH);
        if (rows.length === 0) return 0;
        const dpos = (await listStaffRows(tx, { programId, role: 'dpo', active: true, limit: 1_000 })).map((s) => s.id);
        const recipients = [...dpos, ...(await leadsOf(tx, programId))];
        for (const r of rows) {
          const ids = await notify(tx, recipients, {
            kind: which === 'soon' ? 'dsr_due_soon' : 'dsr_overdue',
            programId,
            caseId: null,
            subjectId: r.id,
            occurrence: r.id,
          });
          out.jobs.push(...webhookJobsFor(settings, ids));
        }
        return rows.length;
      });
      if (which === 'soon') out.dueSoon += claimed;
      else out.overdue += claimed;
      if (claimed < NOTICE_BATCH) break;
    }
  }
  return out;
}
