import { z } from 'zod';
import { NOTIFICATION_KINDS } from '../../domain/vocabulary.js';
import { cursorParam, isoTime, limitParam, nullableTime } from './common.js';

export const notificationSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(NOTIFICATION_KINDS),
    caseId: z.uuid().nullable(),
    createdAt: isoTime,
    readAt: nullableTime,
    hasHandoverNote: z.literal(true).optional().describe('case_assigned only, present when the move left a handover note on the case'),
  })
  .meta({ id: 'Notification' });

export const inboxQuery = z.strictObject({
  unread: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only unread; false: only read; absent: all'),
  limit: limitParam,
  cursor: cursorParam,
});

/** Marking read takes no fields; the body may be left out. */
export const readBody = z.strictObject({}).nullish();
