import { z } from 'zod';
import { APPROACHES, TRIAL_STATUSES, TRIAL_STRATA } from '../../domain/vocabulary.js';
import { isoTime, nullableTime, singleLine } from './common.js';

export const trialBody = z
  .strictObject({
    name: singleLine({ min: 1, max: 200 }),
    arms: z
      .array(z.enum(APPROACHES))
      .min(2)
      .max(4)
      .refine((a) => new Set(a).size === a.length, 'arms must be distinct')
      .describe('2 to 4 distinct approaches; the first is the reference every other arm is compared with'),
    stratifyBy: z
      .array(z.enum(TRIAL_STRATA))
      .max(TRIAL_STRATA.length)
      .refine((a) => new Set(a).size === a.length, 'must be distinct')
      .optional()
      .describe('Case fields whose combinations are allocated separately, each with its own permuted blocks'),
  })
  .meta({ example: { name: 'Opening approach 2027', arms: ['empathetic', 'questioning'], stratifyBy: ['riskLevel'] } });

export const trialSchema = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    name: z.string(),
    arms: z.array(z.enum(APPROACHES)),
    stratifyBy: z.array(z.enum(TRIAL_STRATA)),
    status: z.enum(TRIAL_STATUSES),
    startedAt: isoTime,
    stoppedAt: nullableTime,
    allocated: z.int().describe('Cases allocated so far'),
  })
  .meta({ id: 'Trial' });

export const trialListSchema = z.object({ items: z.array(trialSchema) }).meta({ id: 'TrialList' });

const count = z.int().nullable();
// Two numbers as an array, not a tuple: prefixItems trips common OpenAPI tools.
const interval = z.array(z.number()).length(2);
const rate = z.object({ value: z.number(), ci95: interval.describe('95% Wilson score interval: [low, high]') }).nullable();
const diff = z.object({ value: z.number(), ci95: interval.describe('95% Newcombe hybrid score interval: [low, high]') }).nullable();

const armSchema = z.object({
  arm: z.enum(APPROACHES),
  allocated: count,
  contacted: count,
  responded: count,
  sustained: count,
  responseRate: rate,
  sustainedRate: rate,
  compliance: rate.describe('Complying cases over contacted ones (null per protocol)'),
  suppressed: z.boolean(),
});
const comparisonSchema = z.object({
  arm: z.enum(APPROACHES),
  vs: z.enum(APPROACHES),
  sustainedRateDiff: diff,
  responseRateDiff: diff,
  pValue: z.number().nullable().describe('Two-sided two-proportion z-test of the sustained rate'),
  pValueAdjusted: z.number().nullable().describe('Holm-adjusted across the comparisons'),
});
const analysisFields = {
  arms: z.array(armSchema),
  comparisons: z.array(comparisonSchema),
  minimumDetectableDiff: z
    .number()
    .nullable()
    .describe('Sustained-rate difference detectable with 80% power at alpha 0.05 with the current arm sizes'),
};

export const trialReportSchema = z
  .object({
    trialId: z.uuid(),
    name: z.string(),
    status: z.enum(TRIAL_STATUSES),
    startedAt: isoTime,
    stoppedAt: nullableTime,
    ...analysisFields,
    analysis: z.literal('intention_to_treat'),
    perProtocol: z.object(analysisFields).describe('The same figures over the cases that complied with their arm'),
    asOf: isoTime,
    definition: z.record(z.string(), z.union([z.string(), z.number()])),
  })
  .meta({ id: 'TrialReport' });
