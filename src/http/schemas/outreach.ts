import { z } from 'zod';
import { OUTREACH_DISCLOSURES, PLATFORMS } from '../../domain/vocabulary.js';
import { cursorParam, isoTime, limitParam, nullableTime, singleLine } from './common.js';

export const createOutreachAccountBody = z
  .strictObject({
    platform: z.enum(PLATFORMS),
    label: singleLine({ min: 1, max: 200 }).describe('How staff know the account, e.g. the organisation’s page name (not a persona)'),
    disclosure: z
      .enum(OUTREACH_DISCLOSURES)
      .describe('`organisation`: the organisation’s own account; `named_person`: a named staff member’s, who says who they work for'),
  })
  .meta({ example: { platform: 'x', label: 'Programme account (organisation)', disclosure: 'organisation' } });

export const outreachAccountSchema = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    platform: z.enum(PLATFORMS),
    label: z.string(),
    disclosure: z.enum(OUTREACH_DISCLOSURES),
    createdBy: z.uuid(),
    createdAt: isoTime,
    retiredAt: nullableTime.describe('Set once retired: no new message may name it; messages logged from it keep it'),
  })
  .meta({ id: 'OutreachAccount' });

export const outreachAccountQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
