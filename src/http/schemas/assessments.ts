import { z } from 'zod';
import { ASSESSMENT_NOTE_MAX, FACTOR_KEY, FACTORS_MAX, SCORE_VALUES } from '../../domain/assessments/rules.js';
import { ASSESSMENT_PHASES } from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, limitParam, singleLine } from './common.js';
import { reportWindow } from './evaluation.js';

const factorKey = z
  .string()
  .regex(FACTOR_KEY, 'must be a lowercase slug: a letter, then up to 39 letters, digits or _')
  .meta({ example: 'social_isolation' });
const factor = z.strictObject({ key: factorKey, label: singleLine({ min: 1, max: 200 }) });

export const createTemplateBody = z
  .strictObject({
    name: singleLine({ min: 1, max: 200 }),
    factors: z
      .array(factor)
      .min(1)
      .max(FACTORS_MAX)
      .refine((fs) => new Set(fs.map((f) => f.key)).size === fs.length, 'factor keys must be distinct'),
  })
  .meta({
    example: {
      name: 'Vulnerability review',
      factors: [
        { key: 'social_isolation', label: 'Social isolation' },
        { key: 'grievance', label: 'Expressed grievance' },
        { key: 'us_them', label: 'Us-versus-them language' },
      ],
    },
  });

export const templateSchema = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    name: z.string(),
    version: z.int().describe('1 for the first template of this name in the program, +1 for each later one'),
    factors: z.array(z.object({ key: z.string(), label: z.string() })),
    createdAt: isoTime,
  })
  .meta({ id: 'AssessmentTemplate' });

export const templateQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });

const score = z
  .literal([...SCORE_VALUES])
  .nullable()
  .describe('0 to 3, or null for unknown');

export const createAssessmentBody = z
  .strictObject({
    templateId: z.uuid().describe('A template of the case’s program (400 `assessment.unknown_template` otherwise)'),
    phase: z.enum(ASSESSMENT_PHASES).describe('An analyst records only `baseline` (403 `assessment.phase_not_allowed`)'),
    scores: z
      .record(factorKey, score)
      .refine((s) => Object.keys(s).length <= FACTORS_MAX, `at most ${FACTORS_MAX} factors`)
      .describe('By factor key (400 `assessment.unknown_factor` for a key the template lacks); a factor left out is stored as null'),
    note: freeText({ max: ASSESSMENT_NOTE_MAX }).nullable().optional(),
  })
  .meta({
    example: {
      templateId: '0193a1e6-7b21-7d4e-8a90-1c2d3e4f5a06',
      phase: 'baseline',
      scores: { social_isolation: 2, grievance: 3, us_them: null },
      note: 'Posts mostly late at night; mentions no friends offline.',
    },
  });

const scoreOut = z.int().nullable();
export const assessmentSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    templateId: z.uuid(),
    phase: z.enum(ASSESSMENT_PHASES),
    scores: z.record(z.string(), scoreOut).describe('Every factor of the template; null for unknown'),
    note: z.string().nullable().describe('Null when none was written, or once the case is erased'),
    assessedBy: z.uuid(),
    createdAt: isoTime,
    change: z
      .record(z.string(), scoreOut)
      .describe(
        'Per factor: this score minus the same factor’s in the case’s previous assessment on the same template; null when either is unknown or there is none',
      ),
  })
  .meta({ id: 'Assessment' });

export const assessmentQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });

/** The last (createdAt, id) of a page. */
export const assessmentCursor = z.tuple([isoTime, z.uuid()]);

export const assessmentsReportQuery = z.strictObject({
  ...reportWindow,
  templateId: z
    .uuid()
    .meta({ example: '0193a1e6-7b21-7d4e-8a90-1c2d3e4f5a06' })
    .describe('A template of the program (400 `assessment.unknown_template` otherwise)'),
});

export const assessmentsReportSchema = z
  .object({
    templateId: z.uuid(),
    factors: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        pairs: z.int().nullable().describe('Cases with both a baseline and a closure score for the factor; null when suppressed'),
        meanChange: z.number().nullable().describe('Mean of closure − baseline; null when suppressed or without pairs'),
        // Two numbers as an array, not a tuple: prefixItems trips common OpenAPI tools.
        ci95: z
          .array(z.number())
          .length(2)
          .nullable()
          .describe('95% Student t interval [low, high]; null with fewer than 2 pairs or when suppressed'),
      }),
    ),
    asOf: isoTime,
    definition: z.record(z.string(), z.union([z.string(), z.number()])),
  })
  .meta({
    id: 'AssessmentsReport',
    description: 'Per-factor mean change from baseline to closure, with a t interval; null below minCellSize pairs',
  });
