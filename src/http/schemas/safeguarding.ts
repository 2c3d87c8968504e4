import { z } from 'zod';
import { CONCERN_STATUSES, SEVERITIES } from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, limitParam, nullableTime } from './common.js';

export const raiseConcernBody = z
  .strictObject({
    severity: z.enum(SEVERITIES),
    concern: freeText({ min: 1, max: 2000 }),
    actionTaken: freeText({ max: 2000 }).nullable().optional(),
  })
  .meta({
    example: {
      severity: 'high',
      concern: 'Said they have nothing left to lose and talked about a march next weekend',
      actionTaken: 'Kept the conversation open and phoned my lead',
    },
  });

export const acknowledgeBody = z
  .strictObject({ note: freeText({ max: 2000 }).nullable().optional() })
  .meta({ example: { note: 'Spoke to the intervener; considering a referral' } })
  .nullish();

export const concernSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    severity: z.enum(SEVERITIES),
    concern: z.string().nullable().describe('Null once the case is erased'),
    actionTaken: z.string().nullable(),
    status: z.enum(CONCERN_STATUSES),
    raisedBy: z.uuid(),
    raisedAt: isoTime,
    acknowledgedBy: z.uuid().nullable(),
    acknowledgedAt: nullableTime,
  })
  .meta({ id: 'SafeguardingConcern' });

export const concernQuery = z.strictObject({
  status: z.enum(CONCERN_STATUSES).optional(),
  limit: limitParam,
  cursor: cursorParam,
});
