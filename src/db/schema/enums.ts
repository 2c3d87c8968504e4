import { pgEnum } from 'drizzle-orm/pg-core';

export const STAFF_ROLES = ['admin', 'lead', 'analyst', 'intervener'] as const;
export const PLATFORMS = ['facebook', 'x', 'instagram', 'youtube', 'tiktok', 'telegram', 'reddit', 'other'] as const;
export const IDEOLOGIES = ['far_right', 'islamist', 'other'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export const CASE_STATUSES = ['flagged', 'accepted', 'rejected', 'approved', 'active', 'closed'] as const;
export const STAGES = ['none', 'contacted', 'responded', 'sustained'] as const;
export const OUTCOMES = [
  'positive_change',
  'disengaged',
  'no_response',
  'declined',
  'referred',
  'unsafe_to_continue',
  'other',
] as const;
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
] as const;

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
