import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import type { CaseRow } from '../cases/store.js';
import type { Ctx } from '../context.js';
import { conflict, notFound } from '../errors.js';
import type { Approach, TrialStratum } from '../vocabulary.js';
import { armAt, stratumKey } from './rules.js';
import {
  allocatedCount,
  allocatedCounts,
  findTrial,
  insertTrial,
  listTrialsOf,
  markStopped,
  runningTrialOf,
  takeStratumPosition,
  type TrialRow,
} from './store.js';

export type { TrialRow } from './store.js';

export interface TrialInput {
  name: string;
  arms: Approach[];
  stratifyBy?: TrialStratum[];
}

export function toTrialView(t: TrialRow, allocated: number) {
  return {
    id: t.id,
    programId: t.programId,
    name: t.name,
    arms: t.arms,
    stratifyBy: t.stratifyBy,
    status: t.status,
    startedAt: t.startedAt,
    stoppedAt: t.stoppedAt,
    allocated,
  };
}

export type TrialView = ReturnType<typeof toTrialView>;

/** Leads run trials; a lead or an evaluator of the program reads them. Another program's trial is missing (404). */
function trialOfProgram(ctx: Ctx, t: TrialRow | undefined): TrialRow {
  if (!t || t.programId !== ctx.principal.programId) throw notFound('trial');
  return t;
}

export async function startTrial(tx: Tx, ctx: Ctx, programId: string, input: TrialInput): Promise<TrialView> {
  if (ctx.principal.programId !== programId) throw notFound('program');
  const row = await insertTrial(tx, {
    id: uuidv7(),
    programId,
    name: input.name,
    arms: input.arms,
    stratifyBy: input.stratifyBy ?? [],
    startedAt: ctx.clock.now(),
    startedBy: ctx.principal.staffId,
  });
  if (!row) throw conflict('trial.already_running', 'The program already runs a trial; stop it before starting another.');
  ctx.audit(auditEvent(ctx, 'trial.start', 'trial', row.id, programId));
  return toTrialView(row, 0);
}

export async function stopTrial(tx: Tx, ctx: Ctx, id: string): Promise<TrialView> {
  const t = trialOfProgram(ctx, await findTrial(tx, id));
  const row = await markStopped(tx, t.id, ctx.principal.staffId, ctx.clock.now());
  if (!row) throw conflict('trial.not_running', 'The trial is already stopped.');
  ctx.audit(auditEvent(ctx, 'trial.stop', 'trial', row.id, row.programId));
  return toTrialView(row, await allocatedCount(tx, row.id));
}

export async function getTrial(tx: Tx, ctx: Ctx, id: string): Promise<TrialView> {
  const t = trialOfProgram(ctx, await findTrial(tx, id));
  ctx.audit(auditEvent(ctx, 'trial.read', 'trial', t.id, t.programId));
  return toTrialView(t, await allocatedCount(tx, t.id));
}

export async function listTrials(tx: Tx, ctx: Ctx, programId: string): Promise<TrialView[]> {
  if (ctx.principal.programId !== programId) throw notFound('program');
  const rows = await listTrialsOf(tx, programId);
  ctx.audit(auditEvent(ctx, 'trial.list', 'program', programId, programId));
  const counts = await allocatedCounts(
    tx,
    rows.map((t) => t.id),
  );
  return rows.map((t) => toTrialView(t, counts.get(t.id) ?? 0));
}

/**
 * The arm of a case's first assignment while the program runs a trial: the next position of the
 * case's stratum in that trial's permuted blocks. Written by the caller in the assignment's own
 * transaction, so an assignment that rolls back allocates nothing. A case allocated once (or
 * assigned before the trial) is never allocated again.
 */
export async function allocationFor(
  tx: Tx,
  ctx: Ctx,
  c: CaseRow,
): Promise<Pick<CaseRow, 'trialId' | 'trialArm' | 'trialAllocatedAt'> | null> {
  if (c.trialId || c.assigneeId) return null;
  const trial = await runningTrialOf(tx, c.programId);
  if (!trial) return null;
  const stratum = stratumKey(trial.stratifyBy, c);
  const position = await takeStratumPosition(tx, trial.id, stratum);
  const arm = armAt(ctx.secret, trial.id, stratum, position, trial.arms);
  ctx.audit(auditEvent(ctx, 'trial.allocate', 'case', c.id, c.programId, c.id));
  return { trialId: trial.id, trialArm: arm, trialAllocatedAt: ctx.clock.now() };
}
