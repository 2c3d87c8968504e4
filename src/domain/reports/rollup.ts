import { inArray, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { cases, engagementEvents, engagementResponse, engagementRollup, rollupContrib } from '../../db/schema/index.js';
import { eachProgram } from '../programs/each.js';
import { type Cell, type Contribution, contributions, type EventCell } from './contributions.js';

const EMPTY: Contribution = { cells: [], events: [], responses: [] };

function addCells(into: Map<string, { programId: string; cell: Cell }>, programId: string, cells: Cell[], sign: 1 | -1) {
  for (const c of cells) {
    const key = `${programId}|${c[0]}|${c[1]}|${c[2]}`;
    const cur = into.get(key) ?? { programId, cell: [c[0], c[1], c[2], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] as Cell };
    // A contribution stored before the review (or referral) counts existed is shorter: its missing counts are 0.
    for (let i = 3; i < 13; i++) (cur.cell[i] as number) += sign * ((c[i] as number | undefined) ?? 0);
    into.set(key, cur);
  }
}

function addEvents(into: Map<string, { programId: string; e: EventCell }>, programId: string, events: EventCell[], sign: 1 | -1) {
  for (const e of events) {
    const key = `${programId}|${e[0]}`;
    const cur = into.get(key) ?? { programId, e: [e[0], 0, 0, 0] as EventCell };
    for (let i = 1; i < 4; i++) (cur.e[i] as number) += sign * (e[i] as number);
    into.set(key, cur);
  }
}

/**
 * One incremental pass: takes up to `limit` cases marked dirty (by the trigger on cases), and
 * replaces each one's previous contribution to the rollups with its current one, as exact
 * deltas. Claimed with SKIP LOCKED, so two workers can run passes at once.
 */
export async function rollupPass(db: Db, opts: { programId?: string; limit?: number } = {}): Promise<{ processed: number }> {
  const limit = opts.limit ?? 2000;
  return db.transaction(async (tx) => {
    const scope = opts.programId ? sql`where program_id = ${opts.programId}` : sql``;
    const claimed = await tx.execute<{ case_id: string }>(sql`
      delete from rollup_dirty where case_id in (
        select case_id from rollup_dirty ${scope} order by marked_at limit ${limit} for update skip locked)
      returning case_id`);
    return {
      processed: await applyPass(
        tx,
        claimed.rows.map((r) => r.case_id),
      ),
    };
  });
}

/** Runs passes until nothing is dirty (or `maxPasses` ran); for reports and tests. */
export async function rollupAll(db: Db, opts: { programId?: string; limit?: number; maxPasses?: number } = {}) {
  let processed = 0;
  for (let i = 0; i < (opts.maxPasses ?? 50); i++) {
    const r = await rollupPass(db, opts);
    processed += r.processed;
    if (r.processed === 0) break;
  }
  return { processed };
}

/**
 * The worker's pass: every program's dirty cases, one program at a time, so that a case one
 * program's pass cannot apply stays dirty for the next run without holding up the others.
 */
export async function rollupEachProgram(db: Db, opts: { limit?: number; maxPasses?: number } = {}) {
  let processed = 0;
  const programs = await eachProgram(db, async ({ id }) => {
    processed += (await rollupAll(db, { ...opts, programId: id })).processed;
  });
  return { processed, programs };
}

async function applyPass(tx: Tx, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await tx.select().from(cases).where(inArray(cases.id, ids));
  const old = await tx.select().from(rollupContrib).where(inArray(rollupContrib.caseId, ids));
  const oldBy = new Map(old.map((o) => [o.caseId, o.contrib as Contribution]));
  const cells = new Map<string, { programId: string; cell: Cell }>();
  const events = new Map<string, { programId: string; e: EventCell }>();
  const responses: (typeof engagementResponse.$inferInsert)[] = [];
  const contribs: (typeof rollupContrib.$inferInsert)[] = [];
  for (const c of rows) {
    const before = oldBy.get(c.id) ?? EMPTY;
    const after = contributions(c);
    addCells(cells, c.programId, before.cells, -1);
    addCells(cells, c.programId, after.cells, 1);
    addEvents(events, c.programId, before.events, -1);
    addEvents(events, c.programId, after.events, 1);
    for (const [dimension, groupKey, day, seconds] of after.responses) {
      responses.push({ caseId: c.id, programId: c.programId, dimension, groupKey, day, seconds });
    }
    contribs.push({ caseId: c.id, programId: c.programId, contrib: after });
  }
  const cellRows = [...cells.values()]
    .filter(({ cell }) => cell.slice(3).some((v) => v !== 0))
    .map(
      ({
        programId,
        cell: [
          dimension,
          groupKey,
          day,
          flagged,
          accepted,
          contacted,
          responded,
          sustained,
          positive,
          costCents,
          reviewedPositive,
          pendingReview,
          referred,
        ],
      }) => ({
        programId,
        dimension,
        groupKey,
        day,
        flagged,
        accepted,
        contacted,
        responded,
        sustained,
        positive,
        costCents,
        reviewedPositive,
        pendingReview,
        referred,
      }),
    );
  const t = engagementRollup;
  for (let i = 0; i < cellRows.length; i += 1000) {
    await tx
      .insert(t)
      .values(cellRows.slice(i, i + 1000))
      .onConflictDoUpdate({
        target: [t.programId, t.dimension, t.day, t.groupKey],
        set: {
          flagged: sql`${t.flagged} + excluded.flagged`,
          accepted: sql`${t.accepted} + excluded.accepted`,
          contacted: sql`${t.contacted} + excluded.contacted`,
          responded: sql`${t.responded} + excluded.responded`,
          sustained: sql`${t.sustained} + excluded.sustained`,
          positive: sql`${t.positive} + excluded.positive`,
          costCents: sql`${t.costCents} + excluded.cost_cents`,
          reviewedPositive: sql`${t.reviewedPositive} + excluded.reviewed_positive`,
          pendingReview: sql`${t.pendingReview} + excluded.pending_review`,
          referred: sql`${t.referred} + excluded.referred`,
        },
      });
  }
  const eventRows = [...events.values()]
    .filter(({ e }) => e.slice(1).some((v) => v !== 0))
    .map(({ programId, e: [day, contacted, responded, sustained] }) => ({ programId, day, contacted, responded, sustained }));
  const ev = engagementEvents;
  if (eventRows.length > 0) {
    await tx
      .insert(ev)
      .values(eventRows)
      .onConflictDoUpdate({
        target: [ev.programId, ev.day],
        set: {
          contacted: sql`${ev.contacted} + excluded.contacted`,
          responded: sql`${ev.responded} + excluded.responded`,
          sustained: sql`${ev.sustained} + excluded.sustained`,
        },
      });
  }
  await tx.delete(engagementResponse).where(inArray(engagementResponse.caseId, ids));
  for (let i = 0; i < responses.length; i += 1000) await tx.insert(engagementResponse).values(responses.slice(i, i + 1000));
  await tx
    .insert(rollupContrib)
    .values(contribs)
    .onConflictDoUpdate({ target: rollupContrib.caseId, set: { contrib: sql`excluded.contrib` } });
  return rows.length;
}
