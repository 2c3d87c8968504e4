import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import type { Approach } from '../../db/schema/index.js';
import { auditEvent } from '../audit/log.js';
import { loadCase, loadCaseForWrite } from '../cases/service.js';
import { writeStageFacts } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { DomainError, invalid } from '../errors.js';
import { insertFollowUp } from '../followups/schedule.js';
import { ms, resolveSettings } from '../programs/settings.js';
import { responseSlaJob } from '../reminders/jobs.js';
import { deriveStage } from './stage.js';
import {
  insertTouchpoint,
  listTouchpointsOf,
  markAnsweredBefore,
  type NewTouchpoint,
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
}

export function toTouchpointView(t: TouchpointRow) {
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
  const known = await touchpointWriteContext(tx, c, input.occurredAt);
  const row = await insertTouchpoint(tx, {
    id: uuidv7(),
    caseId,
    programId: c.programId,
    direction: input.direction,
    channel: input.channel,
    occurredAt: input.occurredAt,
    approaches: input.approaches ? [...new Set(input.approaches)] : null,
    sentiment: input.sentiment ?? null,
    costCents: input.costCents ?? null,
    summary: input.summary ?? null,
    loggedBy: ctx.principal.staffId,
    holderId: known.holderId ?? c.assigneeId,
    awaitingResponse: input.direction === 'inbound' && !known.answered,
    createdAt: now,
  } satisfies NewTouchpoint);
  if (input.direction === 'outbound') {
    // Earlier inbound messages are answered now: no response-SLA reminder for them.
    await markAnsweredBefore(tx, caseId, input.occurredAt);
  }

  const settings = resolveSettings(known.settings);
  if (row.awaitingResponse) ctx.jobs.push(responseSlaJob(row, settings, now));
  const all = await touchpointHistory(tx, caseId);
  const facts = deriveStage(all, { minMessages: settings.sustainedMinMessages, minInbound: settings.sustainedMinInbound });
  await writeStageFacts(tx, caseId, now, facts);

  if (input.direction === 'outbound' && !known.outstanding) {
    await insertFollowUp(tx, ctx, {
      caseId,
      programId: c.programId,
      assigneeId: c.assigneeId,
      dueAt: new Date(input.occurredAt.getTime() + ms(settings, 'followUpAfter')),
      kind: 'follow_up',
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
