import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.js';
import { type AssessmentFactor, assessments, assessmentTemplates } from '../../db/schema/index.js';
import type { AssessmentPhase } from '../vocabulary.js';
import type { AssessmentPair, Scores } from './rules.js';

/** The only code that reads or writes assessment_templates and assessments. */

export type TemplateRow = typeof assessmentTemplates.$inferSelect;
export type AssessmentRow = typeof assessments.$inferSelect;
/** An assessment with the scores of the case's previous one on the same template (null: none). */
export type AssessmentWithPrevious = AssessmentRow & { previousScores: Scores | null };

export interface NewTemplate {
  id: string;
  programId: string;
  name: string;
  factors: AssessmentFactor[];
  createdBy: string;
  createdAt: Date;
}

/**
 * Stores the next version of the name in the program; undefined when a concurrent create took
 * that version first (the caller tries again: its next statement sees the other one committed).
 */
export async function insertTemplate(tx: Tx, t: NewTemplate): Promise<TemplateRow | undefined> {
  const next = sql<number>`(select coalesce(max(${assessmentTemplates.version}), 0) + 1 from ${assessmentTemplates}
    where ${assessmentTemplates.programId} = ${t.programId} and ${assessmentTemplates.name} = ${t.name})`;
  const [row] = await tx
    .insert(assessmentTemplates)
    .values({ ...t, version: next })
    .onConflictDoNothing({ target: [assessmentTemplates.programId, assessmentTemplates.name, assessmentTemplates.version] })
    .returning();
  return row;
}

/** The program's templates in creation order, after the id last seen. */
export function listTemplatesOf(tx: Tx, programId: string, limit: number, after?: string): Promise<TemplateRow[]> {
  return tx
    .select()
    .from(assessmentTemplates)
    .where(and(eq(assessmentTemplates.programId, programId), after ? gt(assessmentTemplates.id, after) : undefined))
    .orderBy(asc(assessmentTemplates.id))
    .limit(limit);
}

/** A template of the program; undefined for another program's or none. */
export async function findTemplate(tx: Tx, programId: string, id: string): Promise<TemplateRow | undefined> {
  const [row] = await tx
    .select()
    .from(assessmentTemplates)
    .where(and(eq(assessmentTemplates.id, id), eq(assessmentTemplates.programId, programId)));
  return row;
}

export interface NewAssessment {
  id: string;
  caseId: string;
  programId: string;
  templateId: string;
  phase: AssessmentPhase;
  scores: Scores;
  note: string | null;
  assessedBy: string;
  createdAt: Date;
}

export async function insertAssessment(tx: Tx, a: NewAssessment): Promise<AssessmentRow> {
  const [row] = await tx.insert(assessments).values(a).returning();
  return row!;
}

/** The scores of the case's latest assessment on the template; null when there is none. */
export async function latestScores(tx: Tx, caseId: string, templateId: string): Promise<Scores | null> {
  const [row] = await tx
    .select({ scores: assessments.scores })
    .from(assessments)
    .where(and(eq(assessments.caseId, caseId), eq(assessments.templateId, templateId)))
    .orderBy(sql`${assessments.createdAt} desc, ${assessments.id} desc`)
    .limit(1);
  return row?.scores ?? null;
}

/**
 * A case's assessments oldest first, after the (createdAt, id) last seen, each with the scores of
 * the case's previous assessment on the same template (over all of them, not just this page).
 */
export async function listAssessmentsOf(
  tx: Tx,
  caseId: string,
  limit: number,
  after?: readonly [string, string],
): Promise<AssessmentWithPrevious[]> {
  const ranked = tx.$with('ranked').as(
    tx
      .select({
        id: assessments.id,
        caseId: assessments.caseId,
        programId: assessments.programId,
        templateId: assessments.templateId,
        phase: assessments.phase,
        scores: assessments.scores,
        note: assessments.note,
        assessedBy: assessments.assessedBy,
        createdAt: assessments.createdAt,
        previousScores: sql<Scores | null>`lag(${assessments.scores}) over (partition by ${assessments.templateId}
          order by ${assessments.createdAt}, ${assessments.id})`.as('previous_scores'),
      })
      .from(assessments)
      .where(eq(assessments.caseId, caseId)),
  );
  return tx
    .with(ranked)
    .select()
    .from(ranked)
    .where(after ? sql`(${ranked.createdAt}, ${ranked.id}) > (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined)
    .orderBy(asc(ranked.createdAt), asc(ranked.id))
    .limit(limit);
}

/** Whether the case has a baseline assessment on any template (the `requireBaselineAssessment` gate). */
export async function hasBaselineAssessment(tx: Tx, caseId: string): Promise<boolean> {
  const phase: AssessmentPhase = 'baseline';
  const [row] = await tx
    .select({ one: sql<number>`1` })
    .from(assessments)
    .where(and(eq(assessments.caseId, caseId), eq(assessments.phase, phase)))
    .limit(1);
  return row !== undefined;
}

/** Erasure and retention: a note's text goes; the scores (anonymous figures) and when they were taken stay. */
export async function eraseAssessmentNotesOf(tx: Tx, caseId: string): Promise<void> {
  await tx.update(assessments).set({ note: null }).where(eq(assessments.caseId, caseId));
}

/**
 * The report's pairs: for each case of the program flagged in [from, to) with both a baseline and
 * a closure assessment on the template, its earliest baseline's and latest closure's scores.
 */
export async function assessmentPairs(db: Tx | Db, programId: string, templateId: string, from: Date, to: Date): Promise<AssessmentPair[]> {
  const baseline: AssessmentPhase = 'baseline';
  const closure: AssessmentPhase = 'closure';
  const rows = await db.execute<{ case_id: string; baseline: Scores; closure: Scores }>(sql`
    with cohort as (
      select c.id from cases c
       where c.program_id = ${programId}
         and c.flagged_at >= ${from.toISOString()}::timestamptz and c.flagged_at < ${to.toISOString()}::timestamptz
    ), first_baseline as (
      select distinct on (a.case_id) a.case_id, a.scores
        from assessments a join cohort on cohort.id = a.case_id
       where a.program_id = ${programId} and a.template_id = ${templateId} and a.phase = ${baseline}
       order by a.case_id, a.created_at, a.id
    ), last_closure as (
      select distinct on (a.case_id) a.case_id, a.scores
        from assessments a join cohort on cohort.id = a.case_id
       where a.program_id = ${programId} and a.template_id = ${templateId} and a.phase = ${closure}
       order by a.case_id, a.created_at desc, a.id desc
    )
    select b.case_id, b.scores as baseline, l.scores as closure
      from first_baseline b join last_closure l on l.case_id = b.case_id
     order by b.case_id`);
  return rows.rows.map((r) => ({ caseId: r.case_id, baseline: r.baseline, closure: r.closure }));
}
