import { and, asc, eq, gte, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { outcomeReviews } from '../../db/schema/index.js';
import type { Outcome } from './rules.js';

/** The only code that reads or writes outcome_reviews. */

export type ReviewRow = typeof outcomeReviews.$inferSelect;
export type NewReview = Omit<typeof outcomeReviews.$inferInsert, 'createdAt'> & { createdAt: Date };

/** Stores a review; undefined when this reviewer already has one of this kind on the case (the unique index decides). */
export async function insertReview(tx: Tx, r: NewReview): Promise<ReviewRow | undefined> {
  const [row] = await tx.insert(outcomeReviews).values(r).onConflictDoNothing().returning();
  return row;
}

/** The reviews of a case's current closing (made at or after `closedAt`), oldest first; both kinds. */
export async function reviewsOfClosing(tx: Tx | Db, caseId: string, closedAt: Date): Promise<ReviewRow[]> {
  return tx
    .select()
    .from(outcomeReviews)
    .where(and(eq(outcomeReviews.caseId, caseId), gte(outcomeReviews.createdAt, closedAt)))
    .orderBy(asc(outcomeReviews.createdAt), asc(outcomeReviews.id));
}

/** Whether this staff member ever reviewed (or adjudicated) the case, in any closing. */
export async function hasReviewed(tx: Tx | Db, caseId: string, reviewerId: string, kind: ReviewRow['kind']): Promise<boolean> {
  const [row] = await tx
    .select({ id: outcomeReviews.id })
    .from(outcomeReviews)
    .where(and(eq(outcomeReviews.caseId, caseId), eq(outcomeReviews.reviewerId, reviewerId), eq(outcomeReviews.kind, kind)))
    .limit(1);
  return row !== undefined;
}

/** Every case of the program this staff member has reviewed (the pending list leaves them out). */
export async function reviewedCaseIds(tx: Tx | Db, programId: string, reviewerId: string): Promise<string[]> {
  const rows = await tx
    .selectDistinct({ caseId: outcomeReviews.caseId })
    .from(outcomeReviews)
    .where(and(eq(outcomeReviews.programId, programId), eq(outcomeReviews.reviewerId, reviewerId)));
  return rows.map((r) => r.caseId);
}

export interface ReviewPair {
  caseId: string;
  a: { outcome: Outcome; signals: string[] };
  b: { outcome: Outcome; signals: string[] };
}

/**
 * For the agreement report: per case of the program closed in [from, to), the first two
 * `review`-kind reviews of its current closing (cases with fewer are left out). Erased cases
 * count: reviews keep their codes. Reads cases.closed_at only, to place each review in its closing.
 */
export async function closedReviewPairs(tx: Tx | Db, programId: string, from: Date, to: Date): Promise<ReviewPair[]> {
  const kind: ReviewRow['kind'] = 'review';
  const rows = await tx.execute<{ case_id: string; outcomes: Outcome[]; signals: string[][] | string }>(sql`
    with ranked as (
      select r.case_id, r.outcome, r.signals, r.created_at, r.id,
             row_number() over (partition by r.case_id order by r.created_at, r.id) as n
        from outcome_reviews r
        join cases c on c.id = r.case_id
       where r.program_id = ${programId} and c.program_id = ${programId} and r.kind = ${kind}
         and c.closed_at >= ${from.toISOString()}::timestamptz and c.closed_at < ${to.toISOString()}::timestamptz
         and r.created_at >= c.closed_at
    )
    select case_id, array_agg(outcome::text order by n) as outcomes,
           json_agg(to_json(signals) order by n)::text as signals
      from ranked where n <= 2
     group by case_id having count(*) = 2
     order by case_id`);
  return rows.rows.map((r) => {
    const signals = (typeof r.signals === 'string' ? JSON.parse(r.signals) : r.signals) as string[][];
    const outcomes = parseOutcomes(r.outcomes);
    return {
      caseId: r.case_id,
      a: { outcome: outcomes[0]!, signals: signals[0]! },
      b: { outcome: outcomes[1]!, signals: signals[1]! },
    };
  });
}

/** node-postgres returns a text[] of an aggregate as an array, or as its literal when the type is unknown to it. */
function parseOutcomes(v: Outcome[] | string): Outcome[] {
  if (Array.isArray(v)) return v;
  return v.replace(/^\{|\}$/g, '').split(',') as Outcome[];
}

/** Erasure and retention: a review's note goes; its codes (outcome, signals, confidence) stay. */
export async function eraseReviewNotesOf(tx: Tx, caseId: string): Promise<void> {
  await tx.update(outcomeReviews).set({ note: null }).where(eq(outcomeReviews.caseId, caseId));
}
