import { z } from 'zod';
import {
  ASSESSMENT_PHASES,
  CASE_STATUSES,
  CHANNELS,
  CONCERN_STATUSES,
  DIRECTIONS,
  DSR_RESOLUTIONS,
  DSR_STATUSES,
  DSR_TYPES,
  FOLLOW_UP_KINDS,
  FOLLOW_UP_STATUSES,
  IDEOLOGIES,
  NOTE_KINDS,
  OUTCOMES,
  PLATFORMS,
  REFERRAL_CONSENTS,
  REFERRAL_STATUSES,
  REFERRAL_TARGETS,
  RISK_LEVELS,
  SENTIMENTS,
  SEVERITIES,
  STAGES,
  STAFF_ROLES,
} from '../../domain/vocabulary.js';
import { cursorParam, freeText, isoTime, isoTimeText, limitParam, nullableTime, singleLine } from './common.js';

export const createDsrBody = z
  .strictObject({
    programId: z.uuid(),
    type: z.enum(DSR_TYPES),
    profile: z.strictObject({
      platform: z.enum(PLATFORMS),
      handle: singleLine({ min: 1, max: 300 }).describe(
        'As the subject gave it: a handle, @handle or profile URL (normalised as flagging does)',
      ),
    }),
    receivedAt: isoTime.describe('When the request reached the controller: the month runs from here'),
    note: freeText({ max: 2000 }).nullable().optional(),
  })
  .meta({
    example: {
      programId: '0193a1e4-2f6d-7c18-9a3b-4e5f6a7b8c01',
      type: 'access',
      profile: { platform: 'x', handle: 'https://x.com/Example_Profile' },
      receivedAt: '2026-12-01T09:00:00Z',
    },
  });

const matchStatus = z.enum([...CASE_STATUSES, 'erased']);

export const dsrSchema = z
  .object({
    id: z.uuid(),
    programId: z.uuid(),
    type: z.enum(DSR_TYPES),
    status: z.enum(DSR_STATUSES),
    receivedAt: isoTime,
    dueAt: isoTime.describe('receivedAt + P1M (calendar month, clamped to the month’s end, UTC)'),
    extendedUntil: nullableTime.describe('dueAt + P2M once extended (once)'),
    extensionReason: z.string().nullable(),
    overdue: z.boolean().describe('Open, and the effective due date (extendedUntil, else dueAt) has passed'),
    matches: z.array(z.object({ caseId: z.uuid(), status: matchStatus })).describe('The cases matched when the request came in'),
    suppressed: z.boolean().describe('The profile was on the suppression list: an earlier erasure left only a keyed hash'),
    note: z.string().nullable(),
    resolution: z.enum(DSR_RESOLUTIONS).nullable(),
    resolutionNote: z.string().nullable(),
    closedAt: nullableTime,
    createdAt: isoTime,
  })
  .meta({ id: 'DataSubjectRequest' });

export const dsrQuery = z.strictObject({
  status: z.enum(['open', 'closed', 'overdue']).optional(),
  limit: limitParam,
  cursor: cursorParam,
});
export const dsrCursor = z.tuple([isoTimeText, z.uuid()]);

export const extendDsrBody = z
  .strictObject({ reason: freeText({ min: 1, max: 2000 }) })
  .meta({ example: { reason: 'Complex: several cases and a safeguarding concern to review.' } });

export const closeDsrBody = z
  .strictObject({ resolution: z.enum(DSR_RESOLUTIONS), note: freeText({ min: 1, max: 2000 }) })
  .meta({ example: { resolution: 'fulfilled', note: 'Export sent to the requester by post.' } });

export const dpoReviewSchema = z
  .object({ id: z.uuid(), caseId: z.uuid(), status: z.enum(CONCERN_STATUSES), dpoReviewedAt: isoTime })
  .meta({ id: 'ConcernDpoReview' });

const role = z.enum(STAFF_ROLES).nullable();

const erasedCase = z.object({ caseId: z.uuid(), erased: z.literal(true), erasedAt: isoTime, notice: z.string() });
const heldCase = z.object({
  caseId: z.uuid(),
  erased: z.literal(false),
  status: z.enum(CASE_STATUSES),
  stage: z.enum(STAGES),
  ideology: z.enum(IDEOLOGIES),
  riskLevel: z.enum(RISK_LEVELS),
  flaggedAt: isoTime,
  flaggedByRole: role,
  heldByRole: role,
  closedAt: nullableTime,
  outcome: z.enum(OUTCOMES).nullable(),
  identity: z.object({
    platform: z.enum(PLATFORMS),
    handle: z.string().nullable(),
    url: z.string().nullable(),
    displayName: z.string().nullable(),
    language: z.string().nullable(),
  }),
  publicness: z.object({ accountPublic: z.boolean().nullable(), contentPublic: z.boolean().nullable(), checkedAt: nullableTime }),
  indicators: z.array(z.object({ kind: z.string(), evidenceUrl: z.string().nullable(), note: z.string().nullable() })),
  touchpoints: z.array(
    z.object({
      direction: z.enum(DIRECTIONS),
      channel: z.enum(CHANNELS),
      occurredAt: isoTime,
      approaches: z.array(z.string()),
      sentiment: z.enum(SENTIMENTS).nullable(),
      summary: z.string().nullable(),
      voided: z.boolean(),
      loggedByRole: role,
    }),
  ),
  notes: z.array(z.object({ kind: z.enum(NOTE_KINDS), body: z.string().nullable(), createdAt: isoTime, authorRole: role })),
  followUps: z.array(
    z.object({
      kind: z.enum(FOLLOW_UP_KINDS),
      dueAt: isoTime,
      status: z.enum(FOLLOW_UP_STATUSES),
      note: z.string().nullable(),
      completedAt: nullableTime,
      assigneeRole: role,
    }),
  ),
  assessments: z.array(
    z.object({
      phase: z.enum(ASSESSMENT_PHASES),
      templateId: z.uuid(),
      scores: z.record(z.string(), z.int().nullable()),
      note: z.string().nullable(),
      createdAt: isoTime,
      assessorRole: role,
    }),
  ),
  safeguardingConcerns: z.array(
    z.object({
      id: z.uuid(),
      severity: z.enum(SEVERITIES),
      status: z.enum(CONCERN_STATUSES),
      raisedAt: isoTime,
      raisedByRole: role,
      acknowledgedAt: nullableTime,
      textIncluded: z.boolean().describe('false: the text is left out until a dpo marks the concern reviewed'),
      concern: z.string().nullable(),
      actionTaken: z.string().nullable(),
      acknowledgeNote: z.string().nullable(),
    }),
  ),
  referrals: z.array(
    z.object({
      to: z.enum(REFERRAL_TARGETS),
      consent: z.enum(REFERRAL_CONSENTS),
      basis: z.string().nullable(),
      note: z.string().nullable(),
      status: z.enum(REFERRAL_STATUSES),
      createdAt: isoTime,
      createdByRole: role,
    }),
  ),
  events: z.array(
    z.object({
      kind: z.string(),
      fromStatus: z.enum(CASE_STATUSES).nullable(),
      toStatus: z.enum(CASE_STATUSES).nullable(),
      at: isoTime,
      actorRole: role,
      reason: z.string().nullable(),
      data: z.record(z.string(), z.unknown()).nullable().describe('Staff named in it appear as { role }'),
    }),
  ),
});

export const dsrExportSchema = z
  .object({
    dsrId: z.uuid(),
    generatedAt: isoTime,
    platform: z.enum(PLATFORMS),
    caseCount: z.int(),
    cases: z.array(z.discriminatedUnion('erased', [heldCase, erasedCase])),
    suppressed: z.boolean(),
    keyedHashOnly: z.string().nullable().describe('Said when a match was erased: only a keyed hash of the profile is held'),
    concernsPendingReview: z.array(z.uuid()).describe('Concerns whose text was left out: a dpo has not reviewed them yet'),
    dataProtection: z.object({
      controller: z.string().optional(),
      purposes: z.array(z.string()).optional(),
      legalBasis: z.string().optional(),
      article9Condition: z.string().optional(),
      recipients: z.array(z.string()).optional(),
      sources: z.array(z.string()).optional(),
    }),
    retention: z.object({ neverContacted: z.string(), closed: z.string() }),
    staffShownAs: z.literal('role'),
  })
  .meta({ id: 'DataSubjectAccessExport' });
