import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { rollupDirty } from '../../db/schema/index.js';
import type { Ctx } from '../context.js';
import { notFound } from '../errors.js';
import { programSettings } from '../programs/settings.js';
import { staffNames } from '../staff/store.js';
import type { Dimension } from './contributions.js';
import { buildRows, definitionOf, fromRollups, trend, type Window } from './engagement.js';
import { assertReportReader } from './agreement.js';
import { rollupAll } from './rollup.js';
import { armCounts, trialDefinition, trialFigures } from './trial.js';
import { findTrial } from '../trials/store.js';

/** Brings the program's rollups current (cheap: only dirty cases) and says how fresh they are. */
async function freshen(db: Db, programId: string, now: Date): Promise<Date> {
  await rollupAll(db, { programId, maxPasses: 5 });
  const [oldest] = await db
    .select({ at: sql<Date | null>`min(${rollupDirty.markedAt})` })
    .from(rollupDirty)
    .where(eq(rollupDirty.programId, programId));
  return oldest?.at ? new Date(oldest.at) : now;
}

export async function engagementReport(db: Db, ctx: Ctx, w: Window, dim: Dimension | null) {
  assertReportReader(ctx, w.programId);
  const now = ctx.clock.now();
  const settings = await programSettings(db, w.programId);
  const asOf = await freshen(db, w.programId, now);
  let rows = buildRows(await fromRollups(db, w, dim), settings, dim);
  // Leads may see their staff's names; an evaluator sees ids only (API.md, Roles: no identity).
  if (dim === 'intervener' && ctx.principal.role === 'lead') {
    const names = await staffNames(
      db,
      w.programId,
      rows.map((r) => r.group),
    );
    rows = rows.map((r) => ({ ...r, name: names.get(r.group) ?? null }));
  }
  ctx.audit({
    actorId: ctx.principal.staffId,
    action: 'report.engagement',
    targetType: 'program',
    targetId: w.programId,
    programId: w.programId,
    requestId: ctx.requestId,
  });
  return { rows, asOf, definition: definitionOf(settings, dim) };
}

export async function engagementTrend(db: Db, ctx: Ctx, w: Window, interval: 'day' | 'week') {
  assertReportReader(ctx, w.programId);
  const now = ctx.clock.now();
  const settings = await programSettings(db, w.programId);
  const asOf = await freshen(db, w.programId, now);
  const buckets = await trend(db, w, interval, settings.minCellSize);
  ctx.audit({
    actorId: ctx.principal.staffId,
    action: 'report.trend',
    targetType: 'program',
    targetId: w.programId,
    programId: w.programId,
    requestId: ctx.requestId,
  });
  return { interval, buckets, asOf };
}

/** GET /v1/reports/trials/{id}: the trial's arms by intention to treat, and per protocol (live from the cases). */
export async function trialReport(db: Db, ctx: Ctx, trialId: string) {
  const trial = await findTrial(db, trialId);
  if (!trial || trial.programId !== ctx.principal.programId) throw notFound('trial');
  assertReportReader(ctx, trial.programId);
  const settings = await programSettings(db, trial.programId);
  const asOf = ctx.clock.now();
  const figures = trialFigures(await armCounts(db, trial.id, trial.arms), settings.minCellSize);
  ctx.audit({
    actorId: ctx.principal.staffId,
    action: 'report.trial',
    targetType: 'trial',
    targetId: trial.id,
    programId: trial.programId,
    requestId: ctx.requestId,
  });
  return {
    trialId: trial.id,
    name: trial.name,
    status: trial.status,
    startedAt: trial.startedAt,
    stoppedAt: trial.stoppedAt,
    ...figures,
    asOf,
    definition: trialDefinition(settings.minCellSize),
  };
}
