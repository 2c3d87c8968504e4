import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns.js';
import { caseStatus, direction, ideology, outcome, outcomeStatus, platform, riskLevel, stage } from './enums.js';
import { programs } from './programs.js';
import type { Approach } from '../../domain/vocabulary.js';
import { staff } from './staff.js';
import { trials } from './trials.js';

export interface Indicator {
  kind: string;
  evidenceUrl?: string | null;
  note?: string | null;
}

export const cases = pgTable(
  'cases',
  {
    id: id(),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    status: caseStatus('status').notNull().default('flagged'),
    stage: stage('stage').notNull().default('none'),
    ideology: ideology('ideology').notNull(),
    riskLevel: riskLevel('risk_level').notNull(),
    /** Kept apart from the profile so reports can group without touching identity. */
    platform: platform('platform').notNull(),
    indicators: jsonb('indicators').$type<Indicator[]>().notNull().default([]),
    assigneeId: uuid('assignee_id').references(() => staff.id),
    flaggedAt: ts('flagged_at').notNull(),
    flaggedBy: uuid('flagged_by').references(() => staff.id),
    acceptedAt: ts('accepted_at'),
    approvedAt: ts('approved_at'),
    closedAt: ts('closed_at'),
    outcome: outcome('outcome'),
    /** `self_reported` without review; with review required, `provisional` at closing until reviewed. */
    outcomeStatus: outcomeStatus('outcome_status'),
    /** The outcome the review settled on (confirmed or adjudicated); reports count `positive` from it under review. */
    reviewedOutcome: outcome('reviewed_outcome'),
    reviewedSignals: text('reviewed_signals').array(),
    /** Reviews needed (1, or 2 when drawn for second coding), fixed when the case closes. */
    reviewsRequired: integer('reviews_required'),
    // Stage timestamps with the holder at that moment: funnels need no window functions.
    contactedAt: ts('contacted_at'),
    contactedBy: uuid('contacted_by'),
    respondedAt: ts('responded_at'),
    respondedBy: uuid('responded_by'),
    sustainedAt: ts('sustained_at'),
    sustainedBy: uuid('sustained_by'),
    firstOutboundApproaches: text('first_outbound_approaches').array(),
    /** Publicness as the flagger attested it: the account and the content were public when checked. */
    accountPublic: boolean('account_public'),
    contentPublic: boolean('content_public'),
    publicnessCheckedAt: ts('publicness_checked_at'),
    /** The first referral of the case (reports' `referred`). */
    referredAt: ts('referred_at'),
    /** The disclosed account the first outbound message was sent from (reports' groupBy=outreachAccount). */
    firstOutreachAccountId: uuid('first_outreach_account_id'),
    /** The arm a running trial allocated at first assignment: fixed for good (reassignment, reopen and handover keep it). */
    trialId: uuid('trial_id').references(() => trials.id),
    trialArm: text('trial_arm').$type<Approach>(),
    trialAllocatedAt: ts('trial_allocated_at'),
    touchpointCount: integer('touchpoint_count').notNull().default(0),
    inboundCount: integer('inbound_count').notNull().default(0),
    // bigint: a sum of client-sent costs must never overflow.
    outboundCostCents: bigint('outbound_cost_cents', { mode: 'number' }).notNull().default(0),
    lastTouchpointAt: ts('last_touchpoint_at'),
    lastTouchpointDirection: direction('last_touchpoint_direction'),
    // The fold's state (touchpoints/stage.ts): the last touchpoint counted, the touchpoints since
    // first contact and the inbound among them; a touchpoint logged after the last one folds into them.
    lastTouchpointId: uuid('last_touchpoint_id'),
    conversationMessages: integer('conversation_messages').notNull().default(0),
    conversationInbound: integer('conversation_inbound').notNull().default(0),
    /** null: derived before the rules were kept; the next write derives them from the history. */
    stageRules: text('stage_rules'),
    /**
     * The case's `version` when the stage facts were last written by stageUpdateSql: any other
     * update of the case since (a process of an older release writing the facts its own way, say)
     * leaves it behind `version`, and the next touchpoint derives them from the history instead of folding.
     */
    stageVersion: integer('stage_version'),
    /** Start of the current quiet spell already alerted (no_contact fires once per spell). */
    noContactAlertedAt: ts('no_contact_alerted_at'),
    erasedAt: ts('erased_at'),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('cases_program_status_idx').on(t.programId, t.status, t.id),
    index('cases_assignee_idx').on(t.assigneeId, t.status),
    index('cases_program_flagged_idx').on(t.programId, t.flaggedAt),
    index('cases_trial_idx').on(t.trialId).where(sql`${t.trialId} is not null`),
  ],
);

/** Identity of a flagged public profile. Handles live only here; erasure nulls them. */
export const profiles = pgTable(
  'profiles',
  {
    caseId: uuid('case_id')
      .primaryKey()
      .references(() => cases.id),
    programId: uuid('program_id')
      .notNull()
      .references(() => programs.id),
    platform: platform('platform').notNull(),
    handle: text('handle'),
    url: text('url'),
    displayName: text('display_name'),
    language: text('language'),
    /** True while the case is not closed or rejected: one open case per profile. */
    open: boolean('open').notNull().default(true),
  },
  (t) => [uniqueIndex('profiles_open_handle_idx').on(t.programId, t.platform, t.handle).where(sql`${t.open} and ${t.handle} is not null`)],
);

export const caseEvents = pgTable(
  'case_events',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    programId: uuid('program_id').notNull(),
    actorId: uuid('actor_id'),
    kind: text('kind').notNull(),
    fromStatus: caseStatus('from_status'),
    toStatus: caseStatus('to_status'),
    reason: text('reason'),
    data: jsonb('data').$type<Record<string, unknown>>(),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [index('case_events_case_idx').on(t.caseId, t.id)],
);

export const assignments = pgTable(
  'assignments',
  {
    id: id(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staff.id),
    assignedBy: uuid('assigned_by'),
    startedAt: ts('started_at').notNull(),
    endedAt: ts('ended_at'),
    override: boolean('override').notNull().default(false),
    overrideReason: text('override_reason'),
  },
  (t) => [
    index('assignments_case_idx').on(t.caseId, t.startedAt),
    uniqueIndex('assignments_one_open_idx').on(t.caseId).where(sql`${t.endedAt} is null`),
  ],
);

/** Keyed hashes of platform + normalised handle of erased profiles; never the handle. */
export const suppressionList = pgTable('suppression_list', {
  hash: text('hash').primaryKey(),
  createdAt: createdAt(),
});
