import { and, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { hotQuery } from '../../db/prepared.js';
import { cases, safeguardingConcerns } from '../../db/schema/index.js';
import { caseScope } from '../cases/scope.js';
import type { Principal } from '../staff/principal.js';

/** The only code that writes safeguarding_concerns. */

export type ConcernRow = typeof safeguardingConcerns.$inferSelect;
export type NewConcernRow = Pick<
  typeof safeguardingConcerns.$inferInsert,
  'id' | 'caseId' | 'programId' | 'severity' | 'concern' | 'actionTaken' | 'raisedBy' | 'raisedAt'
>;

export async function insertConcern(tx: Tx, c: NewConcernRow): Promise<ConcernRow> {
  const [row] = await tx.insert(safeguardingConcerns).values(c).returning();
  return row!;
}

/** A concern only a lead of its program may act on; `lock` takes its row. */
export async function findConcernForLead(tx: Tx, p: Principal, id: string, opts: { lock?: boolean } = {}): Promise<ConcernRow | undefined> {
  const q = tx
    .select()
    .from(safeguardingConcerns)
    .where(and(eq(safeguardingConcerns.id, id), p.role === 'lead' ? eq(safeguardingConcerns.programId, p.programId!) : sql`false`));
  const [row] = opts.lock ? await q.for('update') : await q;
  return row;
}

export async function markAcknowledged(tx: Tx, id: string, by: string, at: Date, note: string | null): Promise<ConcernRow> {
  const [row] = await tx
    .update(safeguardingConcerns)
    .set({ status: 'acknowledged', acknowledgedBy: by, acknowledgedAt: at, acknowledgeNote: note })
    .where(eq(safeguardingConcerns.id, id))
    .returning();
  return row!;
}

/**
 * The concerns a caller may list, as SQL over concerns joined to their case: a lead the program's,
 * an intervener those on cases they hold now, an analyst the ones they raised.
 */
function concernScope(p: Principal): SQL {
  switch (p.role) {
    case 'lead':
      return eq(safeguardingConcerns.programId, p.programId!);
    case 'intervener':
      return caseScope(p);
    case 'analyst':
      return and(eq(safeguardingConcerns.programId, p.programId!), eq(safeguardingConcerns.raisedBy, p.staffId))!;
    default:
      return sql`false`;
  }
}

/** Newest first. */
export async function listConcernsInScope(
  tx: Tx,
  p: Principal,
  f: { status?: ConcernRow['status']; after?: string },
  limit: number,
): Promise<ConcernRow[]> {
  const where: (SQL | undefined)[] = [concernScope(p)];
  if (f.status) where.push(eq(safeguardingConcerns.status, f.status));
  if (f.after) where.push(lt(safeguardingConcerns.id, f.after));
  const rows = await tx
    .select({ concern: safeguardingConcerns })
    .from(safeguardingConcerns)
    .innerJoin(cases, eq(cases.id, safeguardingConcerns.caseId))
    .where(and(...where))
    .orderBy(desc(safeguardingConcerns.id))
    .limit(limit);
  return rows.map((r) => r.concern);
}

export async function lockConcern(tx: Tx, id: string): Promise<ConcernRow | undefined> {
  const [c] = await tx.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.id, id)).for('update');
  return c;
}

export async function recordEscalations(tx: Tx, id: string, escalations: number): Promise<void> {
  await tx.update(safeguardingConcerns).set({ escalations }).where(eq(safeguardingConcerns.id, id));
}

/** Open concerns of a program whose next escalation period of `ackMs` has passed by `now`, oldest first. */
export async function escalationsDue(
  db: Db,
  programId: string,
  now: Date,
  ackMs: number,
  limit: number,
): Promise<{ id: string; escalations: number }[]> {
  const open: ConcernRow['status'] = 'open';
  const rows = await hotQuery<{ id: string; escalations: number }>(
    db,
    null,
    `select id, escalations from safeguarding_concerns
      where program_id = $2 and status = $5 and raised_at + (escalations + 1) * ($3::float8 * interval '1 millisecond') <= $1
      order by raised_at limit $4`,
    [now, programId, ackMs, limit, open],
  );
  return rows;
}

/**
 * Erasure: the free text goes, and nobody can act on the concern any more, so it counts as
 * acknowledged (by the eraser, at `now`, unless it already was) and escalations end.
 */
export async function eraseConcernsOf(tx: Tx, caseId: string, now: Date, actorId: string | null): Promise<void> {
  await tx
    .update(safeguardingConcerns)
    .set({
      concern: null,
      actionTaken: null,
      acknowledgeNote: null,
      status: 'acknowledged',
      acknowledgedAt: sql`coalesce(${safeguardingConcerns.acknowledgedAt}, ${now.toISOString()}::timestamptz)`,
      acknowledgedBy: sql`coalesce(${safeguardingConcerns.acknowledgedBy}, ${actorId}::uuid)`,
    })
    .where(eq(safeguardingConcerns.caseId, caseId));
}

/** Every concern of a case, oldest first (a subject access export). */
export async function concernsOfCase(tx: Tx, caseId: string): Promise<ConcernRow[]> {
  return tx.select().from(safeguardingConcerns).where(eq(safeguardingConcerns.caseId, caseId)).orderBy(safeguardingConcerns.id);
}

/** A concern of this program; `lock` takes its row. */
export async function findConcernOfProgram(
  tx: Tx,
  programId: string,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<ConcernRow | undefined> {
  const q = tx
    .select()
    .from(safeguardingConcerns)
    .where(and(eq(safeguardingConcerns.id, id), eq(safeguardingConcerns.programId, programId)));
  const [row] = opts.lock ? await q.for('update') : await q;
  return row;
}

/** A dpo reviewed the concern's text for subject access exports (kept from the first review). */
export async function markDpoReviewed(tx: Tx, id: string, by: string, at: Date): Promise<ConcernRow> {
  const [row] = await tx
    .update(safeguardingConcerns)
    .set({
      dpoReviewedAt: sql`coalesce(${safeguardingConcerns.dpoReviewedAt}, ${at.toISOString()}::timestamptz)`,
      dpoReviewedBy: sql`coalesce(${safeguardingConcerns.dpoReviewedBy}, ${by}::uuid)`,
    })
    .where(eq(safeguardingConcerns.id, id))
    .returning();
  return row!;
}

/** Whether a safeguarding concern was ever raised on the case (a referral without consent rests on one). */
export async function hasConcern(tx: Tx, caseId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: safeguardingConcerns.id })
    .from(safeguardingConcerns)
    .where(eq(safeguardingConcerns.caseId, caseId))
    .limit(1);
  return row !== undefined;
}
