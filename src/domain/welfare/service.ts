import { checkFreeText } from '../text/identifiers.js';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { conflict, forbidden, invalid, notFound } from '../errors.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { loadSettings, ms, type ProgramSettings } from '../programs/settings.js';
import { webhookJobsFor } from '../reminders/jobs.js';
import { findStaffMember, shareLockStaff } from '../staff/store.js';
import type { DebriefReason, DebriefStatus, Ideology, SupervisionFormat, TimeActivity } from '../vocabulary.js';
import { debriefOverdueJob } from './jobs.js';
import { isoWeekStart, parsePeriod, periodAt } from './period.js';
import {
  type DebriefRow,
  exposureMinutes,
  findDebrief,
  insertDebrief,
  insertSupervision,
  insertTimeLog,
  lastSupervisionAt,
  listDebriefsOf,
  listSupervisionOf,
  markDebriefDone,
  pendingDebriefCount,
  type SupervisionRow,
  supervisionMinutes,
  type TimeLogRow,
} from './store.js';

export type { DebriefRow, SupervisionRow, TimeLogRow } from './store.js';

const CLOCK_SKEW_MS = 60_000;
const WEEK_MS = 7 * 86_400_000;

export const capMinutesOf = (settings: ProgramSettings) => Math.floor(ms(settings, 'weeklyExposureCap') / 60_000);

export interface Exposure {
  weekStart: Date;
  exposureMinutes: number;
  capMinutes: number;
  overCap: boolean;
}

/**
 * This UTC ISO week's exposure of each of `staffIds` against the program's cap: the one sum that
 * /v1/me/welfare, candidates and assignment all read.
 */
export async function weeklyExposure(
  tx: Tx,
  staffIds: readonly string[],
  settings: ProgramSettings,
  now: Date,
): Promise<Map<string, Exposure>> {
  const weekStart = isoWeekStart(now);
  const sums = await exposureMinutes(tx, staffIds, weekStart, new Date(weekStart.getTime() + WEEK_MS));
  const capMinutes = capMinutesOf(settings);
  return new Map(
    staffIds.map((id) => {
      const minutes = sums.get(id) ?? 0;
      return [id, { weekStart, exposureMinutes: minutes, capMinutes, overCap: minutes >= capMinutes }];
    }),
  );
}

/** Raises a staff member's exposure: holds their row against an assignment deciding on their cap. */
export const holdExposure = shareLockStaff;

export function toTimeLogView(t: TimeLogRow) {
  return { id: t.id, staffId: t.staffId, at: t.at, minutes: t.minutes, activity: t.activity, createdAt: t.createdAt };
}

/** POST /v1/me/time: an intervener logs time spent with hostile content outside a touchpoint. */
export async function logTime(tx: Tx, ctx: Ctx, input: { at: Date; minutes: number; activity: TimeActivity }): Promise<TimeLogRow> {
  const p = ctx.principal;
  if (p.role !== 'intervener' || !p.programId) throw forbidden('Only interveners log their time.');
  const now = ctx.clock.now();
  if (input.at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw invalid('time.in_future', '`at` may be in the past (logged late), never in the future.', 'body.at');
  }
  await holdExposure(tx, p.staffId);
  const row = await insertTimeLog(tx, {
    id: uuidv7(),
    programId: p.programId,
    staffId: p.staffId,
    at: input.at,
    minutes: input.minutes,
    activity: input.activity,
  });
  ctx.audit(auditEvent(ctx, 'welfare.time_log', 'staff', p.staffId, p.programId));
  return row;
}

/** The supervision period holding `now`, its minutes so far, and when the next supervision is due. */
async function supervisionState(tx: Tx, staffId: string, settings: ProgramSettings, now: Date) {
  const period = parsePeriod(settings.supervisionEvery) ?? parsePeriod('P1M')!;
  const current = periodAt(period, now);
  const minutes = (await supervisionMinutes(tx, [staffId], current.start, current.end)).get(staffId) ?? 0;
  // Due by the end of this period until it has its minutes, then by the end of the next one.
  const dueAt = minutes >= settings.supervisionMinMinutes ? periodAt(period, current.end).end : current.end;
  return { current, minutes, dueAt };
}

/** GET /v1/me/welfare: the intervener's own week, supervision and debriefs. */
export async function myWelfare(tx: Tx, ctx: Ctx) {
  const p = ctx.principal;
  if (p.role !== 'intervener' || !p.programId) throw forbidden('Welfare figures are kept for interveners.');
  const now = ctx.clock.now();
  const settings = await loadSettings(tx, p.programId);
  const exposure = (await weeklyExposure(tx, [p.staffId], settings, now)).get(p.staffId)!;
  const supervision = await supervisionState(tx, p.staffId, settings, now);
  ctx.audit(auditEvent(ctx, 'welfare.read', 'staff', p.staffId, p.programId));
  return {
    weekStart: exposure.weekStart,
    exposureMinutes: exposure.exposureMinutes,
    capMinutes: exposure.capMinutes,
    overCap: exposure.overCap,
    lastSupervisionAt: await lastSupervisionAt(tx, p.staffId, now),
    supervisionDueAt: supervision.dueAt,
    supervisionMinutesThisPeriod: supervision.minutes,
    supervisionMinMinutes: settings.supervisionMinMinutes,
    debriefsPending: await pendingDebriefCount(tx, p.staffId),
    avoid: ((await findStaffMember(tx, p.staffId))?.avoid ?? []) as Ideology[],
  };
}

export interface DebriefTrigger {
  staffId: string | null;
  programId: string;
  caseId: string | null;
  reason: DebriefReason;
  /** The touchpoint, concern or case that triggered it. */
  sourceId: string;
}

/**
 * Owes a debrief for a distressing event, in the transaction of the event: once per (reason,
 * source, staff member), so a replayed request owes nothing more. The person and the program's
 * leads hear of it (`debrief_due`). A lead's own event owes none (debriefs are for interveners).
 */
export async function oweDebrief(tx: Tx, ctx: Ctx, t: DebriefTrigger): Promise<DebriefRow | undefined> {
  if (!t.staffId) return undefined;
  const who = await findStaffMember(tx, t.staffId);
  if (who?.role !== 'intervener' || who.programId !== t.programId) return undefined;
  const settings = await loadSettings(tx, t.programId);
  const now = ctx.clock.now();
  const row = await insertDebrief(tx, {
    id: uuidv7(),
    programId: t.programId,
    staffId: t.staffId,
    caseId: t.caseId,
    reason: t.reason,
    sourceId: t.sourceId,
    dueAt: new Date(now.getTime() + ms(settings, 'debriefWithin')),
    createdAt: now,
  });
  if (!row) return undefined;
  const request = { kind: 'debrief_due' as const, programId: t.programId, caseId: t.caseId, subjectId: row.id, occurrence: row.id };
  const ids = [
    ...(await notify(tx, [t.staffId], { ...request, personal: true })),
    ...(await notify(tx, await leadsOf(tx, t.programId), request)),
  ];
  ctx.jobs.push(debriefOverdueJob(row, now), ...webhookJobsFor(settings, ids));
  ctx.audit(auditEvent(ctx, 'debrief.owe', 'debrief', row.id, t.programId));
  return row;
}

export function toDebriefView(d: DebriefRow) {
  return {
    id: d.id,
    staffId: d.staffId,
    caseId: d.caseId,
    reason: d.reason,
    dueAt: d.dueAt,
    status: d.status,
    doneAt: d.doneAt,
    doneBy: d.doneBy,
    note: d.note,
    createdAt: d.createdAt,
  };
}

/** GET /v1/debriefs: a lead sees the program's, an intervener their own; nobody else any. */
export async function listDebriefs(
  tx: Tx,
  ctx: Ctx,
  f: { status?: DebriefStatus; staffId?: string; limit: number; after?: readonly [string, string] },
): Promise<DebriefRow[]> {
  const p = ctx.principal;
  // Welfare is the person's and their leads' alone: to anyone else there is nothing here.
  if ((p.role !== 'lead' && p.role !== 'intervener') || !p.programId) throw notFound('debrief');
  if (p.role === 'intervener' && f.staffId && f.staffId !== p.staffId) return [];
  const rows = await listDebriefsOf(tx, {
    programId: p.programId,
    staffId: p.role === 'intervener' ? p.staffId : f.staffId,
    status: f.status,
    limit: f.limit + 1,
    after: f.after,
  });
  ctx.audit(auditEvent(ctx, 'debrief.list', 'program', p.programId, p.programId));
  return rows;
}

/** POST /v1/debriefs/{id}/complete: a lead of the program marks it held. */
export async function completeDebrief(tx: Tx, ctx: Ctx, id: string, note: string | null): Promise<DebriefRow> {
  const found = await findDebrief(tx, id, { lock: true });
  if (!found || found.programId !== ctx.principal.programId) throw notFound('debrief');
  if (found.status === 'done') throw conflict('debrief.already_done', 'This debrief is already marked done.');
  checkFreeText(await loadSettings(tx, found.programId), { 'body.note': note });
  const row = await markDebriefDone(tx, id, ctx.principal.staffId, ctx.clock.now(), note?.trim() ? note.trim() : null);
  ctx.audit(auditEvent(ctx, 'debrief.complete', 'debrief', id, found.programId));
  return row!;
}

/** A staff member of the caller's program who can be supervised (an intervener); 404 otherwise. */
async function supervisee(tx: Tx, ctx: Ctx, staffId: string) {
  const who = await findStaffMember(tx, staffId);
  if (who?.role !== 'intervener' || who.programId !== ctx.principal.programId) throw notFound('staff');
  return who;
}

export function toSupervisionView(s: SupervisionRow) {
  return { id: s.id, staffId: s.staffId, at: s.at, minutes: s.minutes, format: s.format, recordedBy: s.recordedBy, createdAt: s.createdAt };
}

/** POST /v1/staff/{id}/supervision-sessions: a lead records a session held with an intervener of the program. */
export async function recordSupervision(
  tx: Tx,
  ctx: Ctx,
  staffId: string,
  input: { at: Date; minutes: number; format: SupervisionFormat },
): Promise<SupervisionRow> {
  const who = await supervisee(tx, ctx, staffId);
  if (input.at.getTime() > ctx.clock.now().getTime() + CLOCK_SKEW_MS) {
    throw invalid('supervision.in_future', 'Record a session once it has happened.', 'body.at');
  }
  const row = await insertSupervision(tx, {
    id: uuidv7(),
    programId: who.programId!,
    staffId,
    at: input.at,
    minutes: input.minutes,
    format: input.format,
    recordedBy: ctx.principal.staffId,
  });
  ctx.audit(auditEvent(ctx, 'supervision.record', 'staff', staffId, who.programId));
  return row;
}

/** GET /v1/staff/{id}/supervision-sessions: the person themself, or a lead of their program; newest first. */
export async function listSupervision(tx: Tx, ctx: Ctx, staffId: string, page: { limit: number; after?: readonly [string, string] }) {
  const p = ctx.principal;
  if (p.role === 'intervener' && p.staffId !== staffId) throw notFound('staff');
  if (p.role !== 'intervener' && p.role !== 'lead') throw notFound('staff');
  const who = await supervisee(tx, ctx, staffId);
  const rows = await listSupervisionOf(tx, staffId, page.limit + 1, page.after);
  ctx.audit(auditEvent(ctx, 'supervision.list', 'staff', staffId, who.programId));
  return rows;
}
