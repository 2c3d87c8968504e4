import { z } from 'zod';
import { REFERRAL_CONSENTS, REFERRAL_STATUSES, REFERRAL_TARGETS } from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, limitParam } from './common.js';

export const createReferralBody = z
  .strictObject({
    to: z.enum(REFERRAL_TARGETS),
    consent: z
      .enum(REFERRAL_CONSENTS)
      .describe(
        'Other than `given` needs `basis` (400 `referral.basis_required`); `police` or `prevent_channel` without consent needs a lead and a safeguarding concern on the case (422 `referral.consent_required`)',
      ),
    basis: freeText({ max: 1000 }).nullable().optional().describe('Why the referral rests on something other than consent'),
    note: freeText({ max: 1000 }).nullable().optional(),
  })
  .meta({ example: { to: 'exit_programme', consent: 'given', note: 'Agreed to an introduction to the exit programme’s caseworker' } });

export const patchReferralBody = z
  .strictObject({ status: z.enum(REFERRAL_STATUSES).exclude(['pending']) })
  .meta({ example: { status: 'accepted' } });

export const referralSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    to: z.enum(REFERRAL_TARGETS),
    consent: z.enum(REFERRAL_CONSENTS),
    basis: z.string().nullable().describe('Null when none was given, or once the case is erased'),
    note: z.string().nullable().describe('Null when none was given, or once the case is erased'),
    status: z.enum(REFERRAL_STATUSES),
    createdBy: z.uuid(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Referral' });

export const referralQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
