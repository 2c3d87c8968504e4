import { oweDebrief } from '../welfare/service.js';
import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent, listReadEvents } from '../audit/log.js';
import { holdCaseAgainstErasure, loadCaseForWrite } from '../cases/service.js';
import type { Ctx } from '../context.js';
import { DomainError, notFound } from '../errors.js';
import { leadsOf, notify } from '../notifications/notify.js';
import { loadSettings, programSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import { safeguardingJob, webhookJobsFor } from '../reminders/jobs.js';
import { type ConcernRow, findConcernForLead, insertConcern, listConcernsInScope, markAcknowledged } from './store.js';

export type { ConcernRow } from './store.js';

export function toConcernView(c: ConcernRow) {
  return {
    id: c.id,
    caseId: c.caseId,
    severity: c.severity,
    concern: c.concern,
    actionTaken: c.actionTaken,
    status: c.status,
    raisedBy: c.raisedBy,
    raisedAt: c.raisedAt,
    acknowledgedBy: c.acknowledgedBy,
    acknowledgedAt: c.acknowledgedAt,
  };
}

export interface NewConcern {
  severity: ConcernRow['severity'];
  concern: string;
  actionTaken?: string | null;
}

/** Anyone who can see the case may raise a concern; every lead hears of it in the same transaction. */
export async function raiseConcern(tx: Tx, ctx: Ctx, caseId: string, input: NewConcern): Promise<ConcernRow> {
  const { case: c } = await loadCaseForWrite(tx, ctx, caseId);
  const settings = await programSettings(tx, c.programId);
  checkFreeText(settings, { 'body.concern': input.concern, 'body.actionTaken': input.actionTaken });
  const now = ctx.clock.now();
  const id = uuidv7();
  const row = await insertConcern(tx, {
    id,
    caseId,
    programId: c.programId,
    severity: input.severity,
    concern: input.concern,
    actionTaken: input.actionTaken?.trim() ? input.actionTaken.trim() : null,
    raisedBy: ctx.principal.staffId,
    raisedAt: now,
  });
  const ids = await notify(tx, await leadsOf(tx, c.programId), {
    kind: 'safeguarding_raised',
    programId: c.programId,
    caseId,
    subjectId: id,
    occurrence: id,
  });
  // Re-escalation starts one acknowledgement period after raising; leads' webhooks go out now.
  ctx.jobs.push(safeguardingJob(row, 1, settings, now), ...webhookJobsFor(settings, ids));
  // An intervener who raises a concern is owed a debrief (API.md, Intervener welfare).
  await oweDebrief(tx, ctx, {
    staffId: ctx.principal.staffId,
    programId: c.programId,
    caseId,
    reason: 'safeguarding_concern',
    sourceId: id,
  });
  ctx.audit(auditEvent(ctx, 'safeguarding.raise', 'safeguarding_concern', id, c.programId, caseId));
  return row;
}

export async function acknowledgeConcern(tx: Tx, ctx: Ctx, id: string, note: string | null): Promise<ConcernRow> {
  const p = ctx.principal;
  const seen = await findConcernForLead(tx, p, id);
  if (!seen) throw notFound('safeguarding');
  // The case first, as erasure locks them: a note written after an erasure could never be removed.
  await holdCaseAgainstErasure(tx, seen.caseId);
  const current = await findConcernForLead(tx, p, id, { lock: true });
  if (!current) throw notFound('safeguarding');
  if (current.status !== 'open') {
    throw new DomainError(409, 'safeguarding.already_acknowledged', 'This concern was already acknowledged.', {
      acknowledgedBy: current.acknowledgedBy,
      acknowledgedAt: current.acknowledgedAt?.toISOString() ?? null,
    });
  }
  checkFreeText(await loadSettings(tx, current.programId), { 'body.note': note });
  const now = ctx.clock.now();
  const row = await markAcknowledged(tx, id, p.staffId, now, note?.trim() ? note.trim() : null);
  ctx.audit(auditEvent(ctx, 'safeguarding.acknowledge', 'safeguarding_concern', id, current.programId, current.caseId));
  return row;
}

export interface ConcernFilter {
  status?: ConcernRow['status'];
  limit: number;
  after?: string;
}

/** Newest first. */
export async function listConcerns(tx: Tx, ctx: Ctx, f: ConcernFilter): Promise<ConcernRow[]> {
  const { limit, ...filter } = f;
  const rows = await listConcernsInScope(tx, ctx.principal, filter, limit + 1);
  const shown = rows.slice(0, f.limit).map((r) => r.caseId);
  ctx.audit(...listReadEvents(ctx, 'safeguarding.list', 'safeguarding_concern', ctx.principal.programId, shown));
  return rows;
}
