import { z } from 'zod';
import { REVIEW_NOTE_MAX } from '../../domain/reviews/rules.js';
import {
  CHANNELS,
  DIRECTIONS,
  IDEOLOGIES,
  OUTCOME_STATUSES,
  OUTCOMES,
  PLATFORMS,
  REVIEW_CONFIDENCES,
  REVIEW_KINDS,
  RISK_LEVELS,
  SENTIMENTS,
  STAGES,
} from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, limitParam, nullableTime, singleLine } from './common.js';

const signals = z
  .array(singleLine({ min: 1, max: 40 }))
  .max(30)
  .describe("Codes from the program's `signalCodebook` (an unknown one is 400 `review.unknown_signal`)");
const note = freeText({ max: REVIEW_NOTE_MAX });

export const reviewBody = z
  .strictObject({
    outcome: z.enum(OUTCOMES),
    signals,
    confidence: z.enum(REVIEW_CONFIDENCES),
    note: note.nullable().optional(),
  })
  .meta({ example: { outcome: 'positive_change', signals: ['expressed_doubt', 'sought_help'], confidence: 'medium' } });

export const adjudicationBody = z
  .strictObject({ outcome: z.enum(OUTCOMES), signals, note: freeText({ min: 1, max: REVIEW_NOTE_MAX }) })
  .meta({
    example: { outcome: 'disengaged', signals: ['none'], note: 'The last messages read as polite closure, not a change of view.' },
  });

export const reviewSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    reviewerId: z.uuid(),
    kind: z.enum(REVIEW_KINDS),
    outcome: z.enum(OUTCOMES),
    signals: z.array(z.string()),
    confidence: z.enum(REVIEW_CONFIDENCES).nullable().describe('Null on an adjudication'),
    note: z.string().nullable().describe('Null when none was written, or once the case is erased'),
    createdAt: isoTime,
  })
  .meta({ id: 'OutcomeReview' });

/** The answer to a review or an adjudication: no note (a stored replay never holds free text), and the case's status after it. */
export const reviewReceiptSchema = reviewSchema
  .omit({ note: true })
  .extend({ outcomeStatus: z.enum(OUTCOME_STATUSES).describe("The case's outcome status after this review") })
  .meta({ id: 'OutcomeReviewReceipt' });

export const reviewListSchema = z
  .object({
    caseId: z.uuid(),
    outcomeStatus: z.enum(OUTCOME_STATUSES).nullable(),
    reviewsRequired: z.int().nullable(),
    reviewsIn: z.int().describe('`review`-kind reviews of the current closing (their content stays hidden until yours is in)'),
    items: z.array(reviewSchema),
  })
  .meta({ id: 'OutcomeReviewList' });

export const reviewPacketSchema = z
  .object({
    caseId: z.uuid(),
    ideology: z.enum(IDEOLOGIES),
    riskLevel: z.enum(RISK_LEVELS),
    platform: z.enum(PLATFORMS),
    stage: z.enum(STAGES),
    touchpointCount: z.int(),
    inboundCount: z.int(),
    outcome: z.enum(OUTCOMES).nullable().describe('As self-reported at closing'),
    outcomeStatus: z.enum(OUTCOME_STATUSES).nullable(),
    closedAt: nullableTime,
    reviewsRequired: z.int(),
    reviewsIn: z.int(),
    signalCodebook: z.array(z.string()).describe('The codes a review of this case may name (the program’s signalCodebook)'),
    touchpoints: z.array(
      z.object({
        id: z.uuid(),
        direction: z.enum(DIRECTIONS),
        channel: z.enum(CHANNELS),
        occurredAt: isoTime,
        approaches: z.array(z.string()),
        sentiment: z.enum(SENTIMENTS).nullable(),
        summary: z.string().nullable(),
      }),
    ),
  })
  .meta({
    id: 'ReviewPacket',
    description: "What review needs of a case: anonymous facts and its touchpoints, never the profile's identity",
  });

export const pendingQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
