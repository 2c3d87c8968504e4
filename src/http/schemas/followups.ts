import { z } from 'zod';
import { FOLLOW_UP_KINDS, FOLLOW_UP_STATUSES } from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, limitParam, nullableTime } from './common.js';

export const createFollowUpBody = z
  .strictObject({
    dueAt: isoTime,
    kind: z.enum(FOLLOW_UP_KINDS),
    note: freeText({ max: 500 }).nullable().optional(),
  })
  .meta({ example: { dueAt: '2026-12-04T09:00:00Z', kind: 'follow_up', note: 'Ask what they thought of the article' } });

export const snoozeBody = z.strictObject({ until: isoTime }).meta({ example: { until: '2026-12-05T09:00:00Z' } });
export { emptyBody } from './common.js';

export const followUpSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    assigneeId: z.uuid().nullable(),
    dueAt: isoTime,
    kind: z.enum(FOLLOW_UP_KINDS),
    note: z.string().nullable(),
    status: z.enum(FOLLOW_UP_STATUSES),
    createdAt: isoTime,
    completedAt: nullableTime,
  })
  .meta({ id: 'FollowUp' });

export const followUpQuery = z.strictObject({
  status: z.enum(FOLLOW_UP_STATUSES).optional(),
  assigneeId: z.uuid().optional().describe("An intervener sees only their own: another assignee's id gives an empty list"),
  caseId: z.uuid().optional(),
  dueFrom: isoTime.optional().describe('Inclusive'),
  dueTo: isoTime.optional().describe('Exclusive'),
  limit: limitParam,
  cursor: cursorParam,
});

/** The last (dueAt, id) of a page; the time must be a real instant, not just well-formed. */
export const followUpCursor = z.tuple([
  z.iso
    .datetime({ offset: true })
    .refine((s) => !Number.isNaN(Date.parse(s)))
    .transform((s) => new Date(s)),
  z.uuid(),
]);
