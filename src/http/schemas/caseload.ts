import { z } from 'zod';
import { PLATFORMS, RISK_LEVELS, STAGES } from '../../domain/vocabulary.js';
import { nullableTime } from './common.js';

export const caseloadItemSchema = z
  .object({
    id: z.uuid(),
    platform: z.enum(PLATFORMS),
    handle: z.string().nullable().describe('The profile to write to (only on the caller’s own active cases)'),
    displayName: z.string().nullable(),
    stage: z.enum(STAGES),
    riskLevel: z.enum(RISK_LEVELS),
    lastTouchpointAt: nullableTime,
    nextFollowUpAt: nullableTime.describe('Earliest dueAt of the pending, due or overdue follow-ups'),
    awaitingReply: z.boolean().describe('The last touchpoint was inbound: the person is waiting for an answer'),
    overdueFollowUps: z.int().min(0),
  })
  .meta({ id: 'CaseloadItem' });

export const caseloadSchema = z.object({ items: z.array(caseloadItemSchema) }).meta({ id: 'Caseload' });
