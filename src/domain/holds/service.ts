import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import { findCaseOfProgram, retentionDueBy } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { forbidden, invalid, notFound } from '../errors.js';
import { ms, programSettings } from '../programs/settings.js';
import type { HoldReason } from '../vocabulary.js';
import { findHold, type HoldRow, insertHold, listHoldsOf, releaseHold } from './store.js';

export type { HoldRow } from './store.js';

/** Holds and the retention preview are for a program's leads and dpos. */
function assertKeeper(ctx: Ctx, programId?: string): string {
  const p = ctx.principal;
  if ((p.role !== 'lead' && p.role !== 'dpo') || !p.programId) throw forbidden('Holds are for leads and data-protection officers.');
  if (programId !== undefined && programId !== p.programId) throw notFound('program');
  return p.programId;
}

export function toHoldView(h: HoldRow, now: Date) {
  const active = h.releasedAt === null && (h.until === null || h.until > now);
  return {
    id: h.id,
    caseId: h.caseId,
    reason: h.reason,
    until: h.until,
    active,
    createdBy: h.createdBy,
    createdAt: h.createdAt,
    releasedAt: h.releasedAt,
    releasedBy: h.releasedBy,
  };
}

/** POST /v1/cases/{id}/holds: any case of the program (a dpo sees no case contents, only that it exists for a hold). */
export async function placeHold(tx: Tx, ctx: Ctx, caseId: string, input: { reason: HoldReason; until?: Date | null }): Promise<HoldRow> {
  const programId = assertKeeper(ctx);
  const c = await findCaseOfProgram(tx, programId, caseId, { lock: true });
  if (!c) throw notFound('case');
  const now = ctx.clock.now();
  if (input.until && input.until <= now) throw invalid('hold.until_past', '`until` must be in the future.', 'body.until');
  const row = await insertHold(tx, {
    id: uuidv7(),
    caseId,
    programId,
    reason: input.reason,
    until: input.until ?? null,
    createdBy: ctx.principal.staffId,
    createdAt: now,
  });
  ctx.audit(auditEvent(ctx, 'hold.place', 'case_hold', row.id, programId, caseId));
  return row;
}

/** DELETE /v1/holds/{id}: releases it (kept on the record); releasing twice is 404-free and changes nothing. */
export async function liftHold(tx: Tx, ctx: Ctx, id: string): Promise<HoldRow> {
  const programId = assertKeeper(ctx);
  const found = await findHold(tx, id, { lock: true });
  if (!found || found.programId !== programId) throw notFound('hold');
  const row = found.releasedAt ? found : await releaseHold(tx, id, ctx.principal.staffId, ctx.clock.now());
  ctx.audit(auditEvent(ctx, 'hold.release', 'case_hold', id, programId, found.caseId));
  return row!;
}

export async function listHolds(tx: Tx, ctx: Ctx, active: boolean, limit: number): Promise<HoldRow[]> {
  const programId = assertKeeper(ctx);
  ctx.audit(auditEvent(ctx, 'hold.list', 'program', programId, programId));
  return listHoldsOf(tx, programId, ctx.clock.now(), active, limit);
}

/** GET /v1/retention/preview: what the retention job will erase within `withinMs`, by the job's own predicate. */
export async function retentionPreview(tx: Tx, ctx: Ctx, programId: string, withinMs: number) {
  assertKeeper(ctx, programId);
  const settings = await programSettings(tx, programId);
  const now = ctx.clock.now();
  const cutoffs = { now, neverContactedMs: ms(settings, 'retentionNeverContacted'), closedMs: ms(settings, 'retentionClosed') };
  const items = await retentionDueBy(tx, programId, cutoffs, new Date(now.getTime() + withinMs), 10_000);
  ctx.audit(auditEvent(ctx, 'retention.preview', 'program', programId, programId));
  return { items, asOf: now };
}
