// The domain's words: the db schema builds its pgEnums from these lists and the HTTP schemas their zod enums.

export const STAFF_ROLES = ['admin', 'lead', 'analyst', 'intervener', 'evaluator', 'dpo'] as const;
export const PLATFORMS = ['facebook', 'x', 'instagram', 'youtube', 'tiktok', 'telegram', 'reddit', 'other'] as const;
export const IDEOLOGIES = ['far_right', 'islamist', 'other'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export const CASE_STATUSES = ['flagged', 'accepted', 'rejected', 'approved', 'active', 'closed'] as const;
export const STAGES = ['none', 'contacted', 'responded', 'sustained'] as const;
export const OUTCOMES = ['positive_change', 'disengaged', 'no_response', 'declined', 'referred', 'unsafe_to_continue', 'other'] as const;
export const DIRECTIONS = ['outbound', 'inbound'] as const;
export const CHANNELS = ['direct_message', 'paid_message', 'comment', 'other'] as const;
export const APPROACHES = [
  'empathetic',
  'nonjudgmental',
  'questioning',
  'personal_story',
  'humour',
  'informational',
  'challenging',
  'religious_argument',
] as const;
export const SENTIMENTS = ['positive', 'neutral', 'negative', 'hostile'] as const;
export const FOLLOW_UP_KINDS = ['follow_up', 'check_in', 'review'] as const;
export const FOLLOW_UP_STATUSES = ['pending', 'due', 'overdue', 'done', 'cancelled'] as const;
export const SEVERITIES = ['urgent', 'high'] as const;
export const CONCERN_STATUSES = ['open', 'acknowledged'] as const;
export const NOTIFICATION_KINDS = [
  'follow_up_due',
  'follow_up_overdue',
  'no_contact',
  'response_overdue',
  'safeguarding_raised',
  'safeguarding_unacknowledged',
  'case_assigned',
  'caseload_orphaned',
  'review_requested',
  'debrief_due',
  'debrief_overdue',
  'supervision_due',
  'dsr_due_soon',
  'dsr_overdue',
] as const;
export const OUTCOME_STATUSES = ['self_reported', 'provisional', 'confirmed', 'disputed', 'adjudicated'] as const;
export const REVIEW_CONFIDENCES = ['low', 'medium', 'high'] as const;
export const REVIEW_KINDS = ['review', 'adjudication'] as const;
export const SNAPSHOT_REPORTS = ['engagement', 'trend', 'agreement', 'trial', 'assessments'] as const;
export const TRIAL_STATUSES = ['running', 'stopped'] as const;
/** What a trial may stratify its allocation by (case fields). */
export const TRIAL_STRATA = ['ideology', 'riskLevel', 'platform'] as const;
export const ASSESSMENT_PHASES = ['baseline', 'review', 'closure'] as const;
/** What a logged stretch of time with hostile content outside a touchpoint was spent on. */
export const TIME_ACTIVITIES = ['messaging', 'research', 'reading'] as const;
export const SUPERVISION_FORMATS = ['individual', 'group', 'peer'] as const;
/** Why a debrief is owed: the event that triggered it. */
export const DEBRIEF_REASONS = ['distressing_touchpoint', 'hostile_touchpoint', 'safeguarding_concern', 'unsafe_closure'] as const;
export const DEBRIEF_STATUSES = ['pending', 'done'] as const;
export const HOLD_REASONS = ['safeguarding_investigation', 'complaint', 'litigation', 'dsr_pending'] as const;
export const DSR_TYPES = ['access', 'objection', 'erasure', 'rectification'] as const;
export const DSR_STATUSES = ['open', 'closed'] as const;
export const DSR_RESOLUTIONS = ['fulfilled', 'refused', 'no_data'] as const;
export const OUTREACH_DISCLOSURES = ['organisation', 'named_person'] as const;
export const REFERRAL_TARGETS = [
  'exit_programme',
  'mental_health',
  'helpline',
  'social_services',
  'prevent_channel',
  'police',
  'other',
] as const;
export const REFERRAL_CONSENTS = ['given', 'declined', 'not_sought'] as const;
export const REFERRAL_STATUSES = ['pending', 'accepted', 'declined', 'unknown'] as const;
export const NOTE_KINDS = ['general', 'handover', 'supervision'] as const;
export const NOTE_VISIBILITIES = ['case', 'leads'] as const;

export type TrialStatus = (typeof TRIAL_STATUSES)[number];
export type TrialStratum = (typeof TRIAL_STRATA)[number];
export type AssessmentPhase = (typeof ASSESSMENT_PHASES)[number];
export type TimeActivity = (typeof TIME_ACTIVITIES)[number];
export type SupervisionFormat = (typeof SUPERVISION_FORMATS)[number];
export type DebriefReason = (typeof DEBRIEF_REASONS)[number];
export type DebriefStatus = (typeof DEBRIEF_STATUSES)[number];
export type HoldReason = (typeof HOLD_REASONS)[number];
export type DsrType = (typeof DSR_TYPES)[number];
export type DsrStatus = (typeof DSR_STATUSES)[number];
export type DsrResolution = (typeof DSR_RESOLUTIONS)[number];
export type OutreachDisclosure = (typeof OUTREACH_DISCLOSURES)[number];
export type ReferralTarget = (typeof REFERRAL_TARGETS)[number];
export type ReferralConsent = (typeof REFERRAL_CONSENTS)[number];
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];
export type Role = (typeof STAFF_ROLES)[number];
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];
export type NoteKind = (typeof NOTE_KINDS)[number];
export type NoteVisibility = (typeof NOTE_VISIBILITIES)[number];
export type Platform = (typeof PLATFORMS)[number];
export type Ideology = (typeof IDEOLOGIES)[number];
export type RiskLevel = (typeof RISK_LEVELS)[number];
export type CaseStatus = (typeof CASE_STATUSES)[number];
export type Stage = (typeof STAGES)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type Direction = (typeof DIRECTIONS)[number];
export type Channel = (typeof CHANNELS)[number];
export type Approach = (typeof APPROACHES)[number];
export type Sentiment = (typeof SENTIMENTS)[number];
export type FollowUpKind = (typeof FOLLOW_UP_KINDS)[number];
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];
export type Severity = (typeof SEVERITIES)[number];
export type ConcernStatus = (typeof CONCERN_STATUSES)[number];
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
