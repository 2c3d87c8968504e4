import { pgEnum } from 'drizzle-orm/pg-core';
import {
  ASSESSMENT_PHASES,
  DSR_RESOLUTIONS,
  DSR_STATUSES,
  DSR_TYPES,
  HOLD_REASONS,
  OUTREACH_DISCLOSURES,
  REFERRAL_CONSENTS,
  REFERRAL_STATUSES,
  REFERRAL_TARGETS,
  DEBRIEF_REASONS,
  DEBRIEF_STATUSES,
  SUPERVISION_FORMATS,
  TIME_ACTIVITIES,
  CASE_STATUSES,
  CHANNELS,
  CONCERN_STATUSES,
  DIRECTIONS,
  FOLLOW_UP_KINDS,
  FOLLOW_UP_STATUSES,
  IDEOLOGIES,
  NOTE_KINDS,
  NOTE_VISIBILITIES,
  NOTIFICATION_KINDS,
  OUTCOME_STATUSES,
  OUTCOMES,
  REVIEW_CONFIDENCES,
  REVIEW_KINDS,
  SNAPSHOT_REPORTS,
  PLATFORMS,
  RISK_LEVELS,
  SENTIMENTS,
  SEVERITIES,
  STAFF_ROLES,
  STAGES,
  TRIAL_STATUSES,
} from '../../domain/vocabulary.js';

export const staffRole = pgEnum('staff_role', STAFF_ROLES);
export const platform = pgEnum('platform', PLATFORMS);
export const ideology = pgEnum('ideology', IDEOLOGIES);
export const riskLevel = pgEnum('risk_level', RISK_LEVELS);
export const caseStatus = pgEnum('case_status', CASE_STATUSES);
export const stage = pgEnum('stage', STAGES);
export const outcome = pgEnum('outcome', OUTCOMES);
export const direction = pgEnum('direction', DIRECTIONS);
export const channel = pgEnum('channel', CHANNELS);
export const sentiment = pgEnum('sentiment', SENTIMENTS);
export const followUpKind = pgEnum('follow_up_kind', FOLLOW_UP_KINDS);
export const followUpStatus = pgEnum('follow_up_status', FOLLOW_UP_STATUSES);
export const severity = pgEnum('severity', SEVERITIES);
export const concernStatus = pgEnum('concern_status', CONCERN_STATUSES);
export const notificationKind = pgEnum('notification_kind', NOTIFICATION_KINDS);
export const noteKind = pgEnum('note_kind', NOTE_KINDS);
export const noteVisibility = pgEnum('note_visibility', NOTE_VISIBILITIES);
export const outcomeStatus = pgEnum('outcome_status', OUTCOME_STATUSES);
export const reviewConfidence = pgEnum('review_confidence', REVIEW_CONFIDENCES);
export const reviewKind = pgEnum('review_kind', REVIEW_KINDS);
export const snapshotReport = pgEnum('snapshot_report', SNAPSHOT_REPORTS);
export const trialStatus = pgEnum('trial_status', TRIAL_STATUSES);
export const assessmentPhase = pgEnum('assessment_phase', ASSESSMENT_PHASES);
export const timeActivity = pgEnum('time_activity', TIME_ACTIVITIES);
export const supervisionFormat = pgEnum('supervision_format', SUPERVISION_FORMATS);
export const debriefReason = pgEnum('debrief_reason', DEBRIEF_REASONS);
export const debriefStatus = pgEnum('debrief_status', DEBRIEF_STATUSES);
export const holdReason = pgEnum('hold_reason', HOLD_REASONS);
export const dsrType = pgEnum('dsr_type', DSR_TYPES);
export const dsrStatus = pgEnum('dsr_status', DSR_STATUSES);
export const dsrResolution = pgEnum('dsr_resolution', DSR_RESOLUTIONS);
export const outreachDisclosure = pgEnum('outreach_disclosure', OUTREACH_DISCLOSURES);
export const referralTarget = pgEnum('referral_target', REFERRAL_TARGETS);
export const referralConsent = pgEnum('referral_consent', REFERRAL_CONSENTS);
export const referralStatus = pgEnum('referral_status', REFERRAL_STATUSES);
