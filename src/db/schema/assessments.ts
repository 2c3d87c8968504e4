import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { cases } from './cases.js';
import { createdAt, id } from './columns.js';
import { assessmentPhase } from './enums.js';
import { programs } from './programs.js';

export interface AssessmentFactor {
  key: string;
  label: string;
}

/** A factor's score: 0 to 3, or null for unknown. */
export type FactorScore = 0 | 1 | 2 | 3 | null;

/** Assessment templates: immutable; a change is a new template (the next `version` of its name). */
export const assessmentTemplates = pgTable(
  'assessment_templates',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    factors: jsonb('factors').$type<AssessmentFactor[]>().notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('assessment_templates_version_idx').on(t.programId, t.name, t.version)],
);

/** Scored assessments of a case on a template; `note` is free text (scoped, audited, erased like notes: set to null). */
export const assessments = pgTable(
  'assessments',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    templateId: uuid('template_id')
      .notNull()
      .references(() => assessmentTemplates.id),
    phase: assessmentPhase('phase').notNull(),
    scores: jsonb('scores').$type<Record<string, FactorScore>>().notNull(),
    note: text('note'),
    assessedBy: uuid('assessed_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('assessments_case_idx').on(t.caseId, t.id), index('assessments_template_idx').on(t.programId, t.templateId, t.phase)],
);
