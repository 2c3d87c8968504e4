import { z } from 'zod';
import {
  APPROACHES,
  CASE_STATUSES,
  IDEOLOGIES,
  OUTCOME_STATUSES,
  OUTCOMES,
  PLATFORMS,
  RISK_LEVELS,
  STAGES,
} from '../../domain/vocabulary.js';
import { freeText, isoTime, nullableTime, singleLine, visibleUrl } from './common.js';

export const httpUrl = visibleUrl({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);
const language = singleLine({ max: 35 }).regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en or pt-BR');

export const indicatorInput = z.strictObject({
  kind: singleLine({ min: 1, max: 100 }),
  evidenceUrl: httpUrl.nullable().optional(),
  note: freeText({ max: 500 }).nullable().optional(),
});

export const profileInput = z.strictObject({
  platform: z.enum(PLATFORMS),
  handle: singleLine({ min: 1, max: 200 }),
  url: httpUrl.nullable().optional(),
  displayName: singleLine({ max: 200 }).nullable().optional(),
  language: language.nullable().optional(),
});

export const publicnessInput = z
  .strictObject({
    accountPublic: z.boolean().describe('The account was public when checked'),
    contentPublic: z.boolean().describe('The content flagged was public when checked'),
    checkedAt: isoTime.describe('When the flagger checked (not in the future)'),
  })
  .describe(
    'The flagger’s attestation that the profile is public; under requirePublicnessAttestation both must be true (422 `case.publicness_unattested`)',
  );

export const createCaseBody = z
  .strictObject({
    programId: z.uuid(),
    profile: profileInput,
    ideology: z.enum(IDEOLOGIES),
    riskLevel: z.enum(RISK_LEVELS),
    indicators: z.array(indicatorInput).max(50),
    flaggedAt: isoTime.optional(),
    publicness: publicnessInput.optional(),
  })
  .meta({
    example: {
      programId: '0193a1e0-5b2c-7a31-8f4e-6d2b9c0e1a01',
      profile: { platform: 'x', handle: '@example_profile', displayName: 'Example Profile', language: 'en' },
      ideology: 'far_right',
      riskLevel: 'medium',
      indicators: [
        {
          kind: 'shares_propaganda',
          evidenceUrl: 'https://x.com/example_profile/status/1863512345678901234',
          note: 'Reposts a recruitment video',
        },
      ],
      flaggedAt: '2026-11-30T16:20:00Z',
      publicness: { accountPublic: true, contentPublic: true, checkedAt: '2026-11-30T16:15:00Z' },
    },
  });

export const patchCaseBody = z
  .strictObject({
    riskLevel: z.enum(RISK_LEVELS).optional(),
    ideology: z.enum(IDEOLOGIES).optional(),
    indicators: z.array(indicatorInput).max(50).optional(),
    profile: z.strictObject({ language: language.nullable().optional() }).optional(),
  })
  .meta({ example: { riskLevel: 'high', profile: { language: 'en-GB' } } });

export const caseSchema = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    status: z.enum(CASE_STATUSES),
    stage: z.enum(STAGES),
    profile: z.object({
      platform: z.enum(PLATFORMS),
      handle: z.string().nullable(),
      url: z.string().nullable(),
      displayName: z.string().nullable(),
      language: z.string().nullable(),
    }),
    ideology: z.enum(IDEOLOGIES),
    riskLevel: z.enum(RISK_LEVELS),
    indicators: z.array(z.object({ kind: z.string(), evidenceUrl: z.string().nullable(), note: z.string().nullable() })),
    assigneeId: z.uuid().nullable(),
    flaggedAt: isoTime,
    acceptedAt: nullableTime,
    approvedAt: nullableTime,
    contactedAt: nullableTime,
    respondedAt: nullableTime,
    sustainedAt: nullableTime,
    lastTouchpointAt: nullableTime,
    closedAt: nullableTime,
    outcome: z.enum(OUTCOMES).nullable(),
    outcomeStatus: z
      .enum(OUTCOME_STATUSES)
      .nullable()
      .describe('How far the outcome is reviewed: null while the case is open; `self_reported` without review'),
    trial: z
      .object({ trialId: z.uuid(), arm: z.enum(APPROACHES), allocatedAt: isoTime })
      .nullable()
      .describe("The arm a trial allocated at the case's first assignment (the holder's suggested opening approach); fixed for good"),
    publicness: z
      .object({ accountPublic: z.boolean(), contentPublic: z.boolean(), checkedAt: isoTime })
      .nullable()
      .describe('As the flagger attested it when flagging; null when flagged without an attestation'),
    referredAt: nullableTime.describe('When the case was first referred to another service; null when never'),
    erased: z.boolean(),
    version: z.int(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Case' });

export const caseFilter = z.strictObject({
  status: z.enum(CASE_STATUSES).optional(),
  stage: z.enum(STAGES).optional(),
  assigneeId: z.uuid().optional(),
  ideology: z.enum(IDEOLOGIES).optional(),
  platform: z.enum(PLATFORMS).optional(),
  riskLevel: z.enum(RISK_LEVELS).optional(),
  orphaned: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('Leads only: `true` lists active cases whose holder is deactivated (waiting for a handover).'),
});

const reason = singleLine({ min: 1, max: 1000 });
export const triageBody = z
  .strictObject({ decision: z.enum(['accept', 'reject']), reason })
  .meta({ example: { decision: 'accept', reason: 'Public account, repeated shares of extremist content, meets the referral criteria' } });
export const approveBody = z
  .strictObject({ note: freeText({ max: 1000 }).nullable().optional() })
  .meta({ example: { note: 'Go ahead: start with an open question' } });
export const assignBody = z
  .strictObject({
    intervenerId: z.uuid(),
    override: z.boolean().optional(),
    reason: reason.nullable().optional(),
    handoverNote: freeText({ min: 1, max: 2000 })
      .nullable()
      .optional()
      .describe('Stored as a `handover` note on the case for its new holder'),
  })
  .meta({ example: { intervenerId: '0193a1e2-8d4f-7e22-b6c1-3a9d0f1e2b03' } });
export const closeBody = z
  .strictObject({ outcome: z.enum(OUTCOMES), note: freeText({ max: 1000 }).nullable().optional() })
  .meta({ example: { outcome: 'no_response', note: 'Three messages over two weeks, no reply' } });
export const reopenBody = z.strictObject({ reason }).meta({ example: { reason: 'They wrote back after the case was closed' } });
export const eraseBody = z
  .strictObject({ reason: singleLine({ min: 1, max: 500 }).describe('Why (never identity: it is kept)') })
  .meta({ example: { reason: 'Erasure request received by email' } });

export const candidateSchema = z.object({
  intervenerId: z.uuid(),
  name: z.string(),
  score: z.number(),
  openCases: z.int(),
  maxCaseload: z.int(),
  exposureMinutes: z.int().describe("This UTC ISO week's exposure: touchpoints' minutesSpent plus logged time"),
  overExposure: z.boolean().describe('At or over the weekly exposure cap: assigning needs an override (409 `staff.over_exposure`)'),
  reasons: z.array(z.string()),
});

export const caseEventSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  actorId: z.uuid().nullable(),
  fromStatus: z.enum(CASE_STATUSES).nullable(),
  toStatus: z.enum(CASE_STATUSES).nullable(),
  reason: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
  at: isoTime,
});
