/**
 * What every documented operation is called, says and promises, in one place: the OpenAPI
 * document takes its operationId, summary and description from here (plugins/openapi.ts), and
 * test/openapi-document.test.ts fails when a documented route is missing or an entry is stale.
 * Keys are `METHOD url` exactly as the route registers it (`:id`, not `{id}`).
 */
export interface OperationDoc {
  /** Names the method of every generated client: a verb for what it does, stable once published. */
  operationId: string;
  /** One line, as /docs lists it. */
  summary: string;
  /** What a client author needs beyond the schema: rules, side effects, the errors worth handling. */
  description: string;
  /** A creating POST: accepts `Idempotency-Key` (a replay answers the first response). */
  idempotent?: true;
  /** A PATCH guarded by `If-Match` (428 without it, 412 when stale). */
  ifMatch?: true;
  /** Its successful responses carry the resource's `ETag` (the `If-Match` of the next PATCH). */
  etag?: true;
}

const CASE_ACTION = 'Answers with the updated case and its new `ETag`; from a state that does not allow it, 409 `case.invalid_transition`.';

export const OPERATIONS: Record<string, OperationDoc> = {
  'GET /healthz': {
    operationId: 'getHealth',
    summary: 'Liveness: the process is up',
    description: 'Always 200 while the process runs; it checks nothing else. Use `/readyz` to decide whether to send traffic.',
  },
  'GET /readyz': {
    operationId: 'getReadiness',
    summary: 'Readiness: database reachable and migrations current',
    description:
      '200 when the database answers and every migration is applied; 503 otherwise, and while the server drains for shutdown. ' +
      'The queue is reported as `ok` or `degraded` but never makes the server unready.',
  },

  'GET /v1/me': {
    operationId: 'getMe',
    summary: 'Who the token belongs to',
    description: 'The caller as the server sees them: staff id, name, role and program (null for admins). A quick way to check a token.',
  },
  'GET /v1/me/caseload': {
    operationId: 'getCaseload',
    summary: "An intervener's active cases, most urgent first",
    description:
      "The caller's active cases, each with its stage, risk, last touchpoint, next follow-up, " +
      'whether the person is waiting for an answer and how many follow-ups are overdue. Overdue follow-ups and unanswered replies come first.',
  },
  'GET /v1/me/notifications': {
    operationId: 'listNotifications',
    summary: "The caller's notifications, newest first",
    description:
      'The staff inbox: follow-ups due and overdue, assignments, safeguarding alerts and more. `unread=true` lists only the unread ones.',
  },
  'POST /v1/me/notifications/:id/read': {
    operationId: 'markNotificationRead',
    summary: 'Mark one of your notifications read',
    description: "Marking a notification read again is harmless. Another person's notification is 404.",
  },

  'POST /v1/programs': {
    operationId: 'createProgram',
    summary: 'Create a program',
    description:
      'A program is one team with its own settings, staff and cases. Unset settings take their defaults. A response that sets `staffWebhookUrl` ' +
      'carries `webhookSecret` once; its replay is 409 `idempotency.secret_not_replayed`.',
    idempotent: true,
  },
  'GET /v1/programs': {
    operationId: 'listPrograms',
    summary: 'List programs',
    description: 'Every program for an admin; a lead sees their own.',
  },
  'GET /v1/programs/:id': {
    operationId: 'getProgram',
    summary: 'Read a program and its settings',
    description: 'The program with its full settings (defaults filled in) and its `ETag`, which the next PATCH sends as `If-Match`.',
    etag: true,
  },
  'PATCH /v1/programs/:id': {
    operationId: 'updateProgram',
    summary: 'Rename a program or change its settings',
    description:
      'Settings merge: only the keys sent change. Requires `If-Match` with the `ETag` you read (428 without it, 412 when someone changed it since). ' +
      'A `staffWebhookUrl` must be https and public (400 `program.webhook_url_not_allowed`); setting it answers `webhookSecret` once.',
    ifMatch: true,
    etag: true,
  },

  'POST /v1/staff': {
    operationId: 'createStaff',
    summary: 'Add a staff member',
    description:
      'A person with one role (`admin`, `lead`, `analyst` or `intervener`); everyone but an admin belongs to a program. Give them a token next.',
    idempotent: true,
  },
  'GET /v1/staff': {
    operationId: 'listStaff',
    summary: 'List staff',
    description: 'Filter by program, role and `active`. An admin sees everyone; a lead sees their own program.',
  },
  'GET /v1/staff/:id': {
    operationId: 'getStaff',
    summary: 'Read a staff member',
    description: 'Their role, program, specialisms, languages, caseload cap and whether they are active.',
  },
  'PATCH /v1/staff/:id': {
    operationId: 'updateStaff',
    summary: 'Change a staff member, or deactivate them',
    description: '`active: false` stops their tokens at once; the last active admin cannot be deactivated (409 `staff.last_admin`).',
  },
  'POST /v1/staff/:id/tokens': {
    operationId: 'createToken',
    summary: 'Issue a personal access token',
    description:
      'Answers `{ id, token }`: the `ovt_…` token is shown this once and stored only as a keyed hash. Because it holds a secret, a replay of the same ' +
      'Idempotency-Key is 409 `idempotency.secret_not_replayed` rather than the token again.',
    idempotent: true,
  },
  'POST /v1/staff/:id/handover': {
    operationId: 'handOverCaseload',
    summary: 'Hand over every active case an intervener holds',
    description:
      'To `toIntervenerId`, or with `strategy: "ranked"` each case to its first candidate. One transaction per case: a case that would ' +
      'put its receiver over `maxCaseload`, onto an absent colleague, or that has no candidate is not moved and is listed in `skipped` ' +
      "with the refusal's code (e.g. `staff.over_capacity`); the others move. Outstanding follow-ups move with their case; each move is " +
      "a new assignment period; `note` is stored as a `handover` note on each moved case and the receiver's `case_assigned` says so.",
  },
  'POST /v1/staff/:id/absences': {
    operationId: 'recordAbsence',
    summary: 'Record an absence, optionally with a cover',
    description:
      'A lead records one for anyone of the program, with an optional `coverId` (an active intervener); an intervener records their ' +
      'own, without a cover. For `[from, to)` the absent person is left out of candidates, assigning to them needs an override ' +
      '(409 `staff.absent`), the cover sees and works their active cases and gets their notifications (with no cover, the leads do). ' +
      'An overlapping absence → 409 `absence.overlaps`.',
    idempotent: true,
  },
  'GET /v1/staff/:id/absences': {
    operationId: 'listAbsences',
    summary: 'A staff member’s absences',
    description: 'Latest first; a lead sees the program’s, an intervener their own.',
  },
  'DELETE /v1/absences/:id': {
    operationId: 'deleteAbsence',
    summary: 'End or cancel an absence',
    description: 'Ends it at once: a cover loses the cases with it. An intervener may end their own unless a lead set a cover. 204.',
  },
  'GET /v1/programs/:id/settings-history': {
    operationId: 'getProgramSettingsHistory',
    summary: 'Every change of a program’s settings',
    description:
      'Newest first: `{ version, changedAt, changedBy, changes: { key: { from, to } } }` with the resolved values before and after. ' +
      'Version 1 is the creation (against the defaults); `settingsVersion` on the program is the latest, and report snapshots record it.',
  },
  'DELETE /v1/tokens/:id': {
    operationId: 'revokeToken',
    summary: 'Revoke a token',
    description: 'The token stops working at once. 204 with no body.',
  },

  'POST /v1/cases': {
    operationId: 'createCase',
    summary: 'Flag a public profile (open a case)',
    description:
      'Opens a case in `flagged`. The handle is normalised per platform (a profile URL works too); an invalid one is 400 `profile.invalid_handle`. ' +
      'The same profile already open in the program is 409 with `caseId`; an erased, suppressed person is 422 `profile.suppressed`. ' +
      '`flaggedAt` may be in the past, never in the future. `publicness` records the flagger’s check that the account and the content ' +
      'were public (read back on the case); under setting `requirePublicnessAttestation`, a flag without both `true` is 422 ' +
      '`case.publicness_unattested`. Indicator notes holding a URL or an @handle are 422 `text.contains_identifier` (the link goes in ' +
      '`evidenceUrl`).',
    idempotent: true,
  },
  'GET /v1/cases': {
    operationId: 'listCases',
    summary: 'List cases in your scope',
    description:
      'Filter by status, stage, assignee, ideology, platform and risk. A lead sees the program, an analyst the ones in `flagged`, `accepted` or `rejected`, an intervener their own.',
  },
  'GET /v1/cases/:id': {
    operationId: 'getCase',
    summary: 'Read a case',
    description:
      'The case with its profile, indicators, workflow status, derived engagement stage and `ETag`. Outside your scope it is 404, never 403.',
    etag: true,
  },
  'PATCH /v1/cases/:id': {
    operationId: 'updateCase',
    summary: "Edit a case's risk, ideology, indicators or language",
    description:
      'Requires `If-Match` with the `ETag` you read (428 without it, 412 when it changed since). Status and stage are never set by hand.',
    ifMatch: true,
    etag: true,
  },
  'POST /v1/cases/:id/triage': {
    operationId: 'triageCase',
    summary: 'Accept or reject a flagged case',
    description: `\`flagged\` → \`accepted\` or \`rejected\`, with a reason. ${CASE_ACTION}`,
    etag: true,
  },
  'POST /v1/cases/:id/approve': {
    operationId: 'approveCase',
    summary: 'Approve an accepted case for first contact',
    description: `\`accepted\` → \`approved\` (skipped when the program's \`requireApproval\` is false). ${CASE_ACTION}`,
    etag: true,
  },
  'GET /v1/cases/:id/candidates': {
    operationId: 'listCandidates',
    summary: 'Interveners ranked for a case',
    description: 'Each with a score and the reasons behind it: specialism against ideology, language, and open caseload against their cap.',
  },
  'POST /v1/cases/:id/assignment': {
    operationId: 'assignCase',
    summary: 'Assign (or reassign) a case to an intervener',
    description:
      `The case becomes \`active\` with that holder; reassigning ends the old holder's access at once. Over their \`maxCaseload\` is 409 ` +
      `\`staff.over_capacity\` unless \`override\` with a reason. ${CASE_ACTION}`,
    etag: true,
  },
  'POST /v1/cases/:id/close': {
    operationId: 'closeCase',
    summary: 'Close a case with an outcome',
    description: `By a lead or the assigned intervener. Outcome \`referred\` needs a referral of the case first (409 \`case.referral_missing\`). ${CASE_ACTION}`,
    etag: true,
  },
  'POST /v1/cases/:id/reopen': {
    operationId: 'reopenCase',
    summary: 'Reopen a closed case',
    description: `\`closed\` → \`active\` with its last holder, with a reason. An erased case cannot be reopened (409 \`case.erased\`). ${CASE_ACTION}`,
    etag: true,
  },
  'POST /v1/cases/:id/erase': {
    operationId: 'eraseCase',
    summary: 'Erase a case’s identity and free text',
    description:
      'Deletes the profile identity, indicator notes and touchpoint summaries; the profile goes on the suppression list and the case stays only as ' +
      'anonymous counts. Final: every later write on the case is 409 `case.erased`.',
    etag: true,
  },
  'GET /v1/cases/:id/events': {
    operationId: 'listCaseEvents',
    summary: "A case's history",
    description: 'Every transition, assignment and edit, oldest first, with actor, time and reason.',
  },

  'POST /v1/cases/:id/touchpoints': {
    operationId: 'logTouchpoint',
    summary: 'Log a message a person sent or received',
    description:
      'Overture never sends anything: this records a message sent or received outside it. The first outbound one moves the stage to `contacted`, ' +
      'the first inbound after it to `responded`. An outbound one needs an `active` case, and schedules a follow-up `followUpAfter` later when ' +
      'none is pending. `occurredAt` may be in the past, never in the future. An outbound one names the disclosed outreach account it was sent ' +
      'from in `outreachAccountId` (required under setting `requireOutreachAccount`); an unknown, retired, other program’s or other ' +
      'platform’s account, or one named on an inbound message, is 422 `touchpoint.outreach_account_invalid`. A summary holding a URL or an ' +
      '@handle is 422 `text.contains_identifier`.',
    idempotent: true,
  },
  'GET /v1/cases/:id/touchpoints': {
    operationId: 'listTouchpoints',
    summary: "A case's touchpoints",
    description:
      'In the order they happened (`occurredAt`), oldest first. Voided ones are listed too, with `voidedAt`, `voidedBy` and `voidReason`.',
  },
  'POST /v1/touchpoints/:id/void': {
    operationId: 'voidTouchpoint',
    summary: 'Void a touchpoint logged in error',
    description:
      'By the intervener who logged it, within 7 days of logging it (403 `touchpoint.not_logger`, `touchpoint.void_window_closed`), or a lead. ' +
      'It stays readable with who voided it and why, and counts nowhere: the case’s stage, stage times and holders, its reply and ' +
      'follow-up reminders and every report are recomputed as if it had never been logged. Voiding again is 409 `touchpoint.already_void`; ' +
      'on a closed case whose outcome the remaining stage no longer allows, 409 `case.invalid_outcome` (reopen it first). Re-log to correct.',
  },

  'POST /v1/cases/:id/notes': {
    operationId: 'addCaseNote',
    summary: 'Add a note to a case',
    description:
      "By the case's holder (or their cover) and the program's leads. `visibility: leads` is read by leads only, and only a lead may " +
      'write it (403 `note.leads_only`). On an erased case, 409 `case.erased`. Notes are case data: scoped, audited, erased with the case.',
    idempotent: true,
  },
  'GET /v1/cases/:id/notes': {
    operationId: 'listCaseNotes',
    summary: "A case's notes, newest first",
    description:
      'The notes the caller may read: an intervener never sees `leads` notes. Each read is audited. After erasure the notes remain with `body: null`.',
  },

  'POST /v1/cases/:id/outcome-reviews': {
    operationId: 'reviewCaseOutcome',
    summary: "Review a closed case's outcome",
    description:
      'By a lead, analyst or intervener of the program (peers review each other’s cases, whatever their caseload), once per case ' +
      '(409 `review.duplicate`), never by anyone who ever held it (409 `review.conflict_of_interest`). Only with `outcomeReview: required` ' +
      '(409 `review.not_required`) and on a closed, provisional or disputed case (409 `review.not_open`); signals come from the program’s ' +
      '`signalCodebook` (400 `review.unknown_signal`). When the required reviews (1, or 2 when drawn for second coding) agree on the outcome ' +
      'the case is `confirmed` with it (signals: those every review named); otherwise `disputed`. The answer carries no note and the ' +
      'case’s new `outcomeStatus`.',
    idempotent: true,
  },
  'GET /v1/cases/:id/outcome-reviews': {
    operationId: 'listCaseOutcomeReviews',
    summary: "A case's outcome reviews (blind until yours is in)",
    description:
      'Blind: a reviewer sees only their own review until it is in, then all of them; a lead sees all once the required number is in. ' +
      'Lists the reviews and adjudication of the current closing. Audited as a read of the case; notes are null after erasure.',
  },
  'POST /v1/cases/:id/outcome-adjudication': {
    operationId: 'adjudicateCaseOutcome',
    summary: 'Settle a disputed outcome',
    description:
      'A lead who never held the case (409 `review.conflict_of_interest`) settles a `disputed` case (409 `review.not_disputed` otherwise): ' +
      'it becomes `adjudicated` with this outcome and signals, which reports count under review.',
    idempotent: true,
  },
  'GET /v1/reviews/pending': {
    operationId: 'listPendingReviews',
    summary: 'Cases waiting for your review',
    description:
      'Closed, provisional cases of your program you never held and have not reviewed, oldest id first, each with what review needs: ' +
      'ideology, risk, platform, stage, counts, the self-reported outcome, closing time, reviews required and in, and its touchpoints’ ' +
      'metadata and summaries (voided ones left out). Never the profile’s identity. Audited as a list read of the cases shown.',
  },

  'POST /v1/programs/:id/assessment-templates': {
    operationId: 'createAssessmentTemplate',
    summary: 'Create an assessment template',
    description:
      'By a lead of the program: a named set of 1 to 30 factors, each with a slug `key` (distinct) and a `label`, scored 0 to 3 or unknown. ' +
      'Templates never change: creating one with a name the program already has makes its next `version`, and assessments keep the one ' +
      'they were recorded on.',
    idempotent: true,
  },
  'GET /v1/programs/:id/assessment-templates': {
    operationId: 'listAssessmentTemplates',
    summary: "A program's assessment templates",
    description:
      'Every version, in creation order, for the program’s leads, analysts, interveners and evaluators; another program’s is 404.',
  },
  'POST /v1/cases/:id/assessments': {
    operationId: 'recordAssessment',
    summary: 'Record an assessment of a case',
    description:
      "By the case's holder (or their cover) and the program's leads; an analyst records only a `baseline` (403 " +
      '`assessment.phase_not_allowed`). `templateId` names a template of the case’s program (400 `assessment.unknown_template`); a score for ' +
      'a key the template lacks is 400 `assessment.unknown_factor`, and a factor left out is stored as null (unknown). The answer carries ' +
      '`change` against the case’s previous assessment on the same template. On an erased case, 409 `case.erased`. The note is case data: ' +
      'scoped, audited, erased with the case.',
    idempotent: true,
  },
  'GET /v1/cases/:id/assessments': {
    operationId: 'listCaseAssessments',
    summary: "A case's assessments, oldest first",
    description:
      'Each with `change`: per factor, this score minus the same factor’s in the case’s previous assessment on the same template (null ' +
      'when either is unknown or there is none). Each read is audited. After erasure the scores remain and `note` is null.',
  },

  'POST /v1/programs/:id/outreach-accounts': {
    operationId: 'createOutreachAccount',
    summary: 'Register a disclosed outreach account',
    description:
      'By a lead of the program: an account outreach is sent from, on one platform, disclosed as the organisation’s own or a named ' +
      'person’s (`disclosure`); there is no way to register an undisclosed persona. Outbound touchpoints name it in `outreachAccountId` ' +
      '(required under setting `requireOutreachAccount`). Another program’s is 404.',
    idempotent: true,
  },
  'GET /v1/programs/:id/outreach-accounts': {
    operationId: 'listOutreachAccounts',
    summary: "A program's outreach accounts",
    description: 'In creation order, retired ones included (with `retiredAt`), for the program’s staff; another program’s is 404.',
  },
  'POST /v1/outreach-accounts/:id/retire': {
    operationId: 'retireOutreachAccount',
    summary: 'Retire an outreach account',
    description:
      'By a lead of its program: no new outbound touchpoint may name it (422 `touchpoint.outreach_account_invalid`); those logged from it ' +
      'keep it. Retiring again is 409 `outreach_account.already_retired`; another program’s is 404.',
  },

  'POST /v1/cases/:id/referrals': {
    operationId: 'createReferral',
    summary: 'Record a referral to another service, with the consent behind it',
    description:
      "By the case's holder (or their cover) and the program's leads. Consent other than `given` needs a `basis` (400 " +
      '`referral.basis_required`); `police` or `prevent_channel` without consent needs a lead as the caller and a safeguarding concern on ' +
      'the case (422 `referral.consent_required`). The case history records who decided (`referred`, with the decider’s role); the ' +
      'case’s `referredAt` is its first referral. `basis` and `note` are free text: refused when they hold a URL or an @handle (422 ' +
      '`text.contains_identifier`), erased with the case. On an erased case, 409 `case.erased`.',
    idempotent: true,
  },
  'GET /v1/cases/:id/referrals': {
    operationId: 'listCaseReferrals',
    summary: "A case's referrals, oldest first",
    description: 'Each read is audited. After erasure the referrals remain with `basis` and `note` null.',
  },
  'PATCH /v1/referrals/:id': {
    operationId: 'updateReferral',
    summary: 'Record what became of a referral',
    description:
      '`status`: `accepted`, `declined` or `unknown`, by whoever may refer from the case now (its holder or cover, a lead); recorded in ' +
      'the case history. A referral of a case outside your scope is 404; of an erased case, 409 `case.erased`.',
  },

  'POST /v1/cases/:id/follow-ups': {
    operationId: 'scheduleFollowUp',
    summary: 'Schedule a follow-up reminder',
    description:
      "A reminder for the case's holder, never a message to the profile. At `dueAt` it becomes `due` and the holder is notified; " +
      '`overdueGrace` later it becomes `overdue` and the leads are notified. `dueAt` may not be in the past.',
    idempotent: true,
  },
  'GET /v1/follow-ups': {
    operationId: 'listFollowUps',
    summary: 'Follow-ups by due time',
    description: "Soonest first. An intervener sees their own, a lead the program's. `dueFrom` is inclusive, `dueTo` exclusive.",
  },
  'POST /v1/follow-ups/:id/complete': {
    operationId: 'completeFollowUp',
    summary: 'Mark a follow-up done',
    description: 'A follow-up already done or cancelled is 409 `follow_up.invalid_transition`.',
  },
  'POST /v1/follow-ups/:id/cancel': {
    operationId: 'cancelFollowUp',
    summary: 'Cancel a follow-up',
    description: 'A follow-up already done or cancelled is 409 `follow_up.invalid_transition`.',
  },
  'POST /v1/follow-ups/:id/snooze': {
    operationId: 'snoozeFollowUp',
    summary: 'Move a follow-up to a later time',
    description: 'It becomes `pending` again, due at `until` (which must be in the future).',
  },

  'POST /v1/cases/:id/safeguarding': {
    operationId: 'raiseConcern',
    summary: 'Raise a safeguarding concern',
    description:
      'Every lead of the program is notified at once; unacknowledged after `safeguardingAckWithin`, leads and admins are notified again, each period.',
    idempotent: true,
  },
  'GET /v1/safeguarding': {
    operationId: 'listConcerns',
    summary: 'List safeguarding concerns',
    description: "Newest first: a lead's program, an intervener's current cases, the ones an analyst raised. Filter by `status`.",
  },
  'POST /v1/safeguarding/:id/acknowledge': {
    operationId: 'acknowledgeConcern',
    summary: 'Acknowledge a safeguarding concern',
    description: 'Stops its escalation. Acknowledging twice is 409.',
  },

  'GET /v1/reports/engagement': {
    operationId: 'getEngagementReport',
    summary: 'Engagement funnel for a cohort',
    description:
      'Cases flagged in `[from, to)` (`to` is exclusive), in total or grouped; each rate with its 95% Wilson interval `ci95: [low, high]`. ' +
      'Cells below `minCellSize` are null and `suppressed`. `format=csv` answers the same numbers as RFC 4180 CSV.',
  },
  'GET /v1/reports/engagement/trend': {
    operationId: 'getEngagementTrend',
    summary: 'Engagement counts over time',
    description: 'Contacted, responded and sustained per day or week over `[from, to)` (`to` is exclusive), small cells suppressed.',
  },
  'GET /v1/reports/agreement': {
    operationId: 'getAgreementReport',
    summary: "Cohen's kappa between two outcome reviewers",
    description:
      'Over cases closed in `[from, to)` with two independent reviews: kappa of the outcome and of each signal code (present or absent), ' +
      'each with a 95% interval from the large-sample non-null standard error of Fleiss, Cohen & Everitt (1969), stated in `definition`. ' +
      'Every figure is null with fewer than `minCellSize` pairs, and kappa is null when both reviewers used one category only.',
  },
  'GET /v1/reports/assessments': {
    operationId: 'getAssessmentsReport',
    summary: 'Mean change per assessment factor, baseline to closure',
    description:
      'Over cases flagged in `[from, to)` with a baseline and a closure assessment on the template: per factor, the mean of the latest ' +
      'closure score minus the earliest baseline score over the cases where both are known (`pairs`), with a two-sided 95% Student t interval ' +
      '(df = pairs − 1). `pairs`, `meanChange` and `ci95` are null when a factor has fewer than `minCellSize` pairs. A template of another ' +
      'program is 400 `assessment.unknown_template`.',
  },
  'POST /v1/programs/:id/trials': {
    operationId: 'startTrial',
    summary: 'Start an approach trial',
    description:
      'While it runs, every case assigned for the first time is allocated one of `arms` by stratified permuted blocks (blocks of twice the ' +
      'number of arms per stratum of `stratifyBy`, shuffled by a keyed hash of the trial id and the server secret), in the transaction of the ' +
      'assignment; the case reads back `trial` and keeps it for good (reassignment, reopen and handover do not change it). One running trial per ' +
      'program: 409 `trial.already_running`.',
    idempotent: true,
  },
  'GET /v1/programs/:id/trials': {
    operationId: 'listTrials',
    summary: "A program's trials, newest first",
    description: 'Running and stopped, each with the number of cases allocated so far.',
  },
  'GET /v1/trials/:id': {
    operationId: 'getTrial',
    summary: 'One trial',
    description: 'Another program’s trial is 404.',
  },
  'POST /v1/trials/:id/stop': {
    operationId: 'stopTrial',
    summary: 'Stop a trial',
    description:
      'No case is allocated after the stop; the allocated ones keep their arm and the report stays available. A stopped trial: 409 `trial.not_running`.',
  },
  'GET /v1/reports/trials/:id': {
    operationId: 'getTrialReport',
    summary: "A trial's arms by intention to treat, and per protocol",
    description:
      'Rates over every allocated case (intention to treat) with Wilson intervals; each later arm against the first with the Newcombe hybrid ' +
      'score interval of the difference, a two-sided two-proportion p-value of the sustained rate and its Holm adjustment across the comparisons; ' +
      'the sustained-rate difference detectable with 80% power at alpha 0.05 with the current arm sizes. `perProtocol` repeats the figures over ' +
      'the cases whose first outbound touchpoint used their arm. Small cells are suppressed as in every report.',
  },
  'POST /v1/me/time': {
    operationId: 'logTime',
    summary: 'Log time spent with hostile content outside a touchpoint',
    description:
      'Interveners only. Counts toward your exposure in the UTC ISO week of `at` (with the `minutesSpent` of the touchpoints you log); ' +
      'at or over the program’s `weeklyExposureCap` new cases need a lead’s override. `at` may be in the past, never in the future.',
    idempotent: true,
  },
  'GET /v1/me/welfare': {
    operationId: 'getMyWelfare',
    summary: 'Your week: exposure against the cap, supervision and debriefs',
    description: 'Interveners only; computed from the rows each time (no counter to drift), the same sum candidates and assignment read.',
  },
  'PUT /v1/me/avoid': {
    operationId: 'setMyTopicOptOuts',
    summary: 'Opt out of (or back into) cases of some ideologies',
    description:
      'Interveners only: the right to opt out of topics. Such cases are left out of your candidates and assigning you one needs a lead’s override with a reason (409 `staff.avoids_topic`). `[]` opts back in.',
  },
  'GET /v1/debriefs': {
    operationId: 'listDebriefs',
    summary: 'Debriefs owed, earliest due first',
    description:
      'A lead sees the program’s (optionally one intervener’s), an intervener their own; anyone else 404. A debrief is owed, once per event, ' +
      'when a touchpoint is `distressing` or `hostile`, when an intervener raises a safeguarding concern, and when a case closes `unsafe_to_continue`; ' +
      'it is due `debriefWithin` later, and one still pending then notifies the leads once (`debrief_overdue`).',
  },
  'POST /v1/debriefs/:id/complete': {
    operationId: 'completeDebrief',
    summary: 'Mark a debrief held',
    description:
      'A lead of the program; the note is welfare data (the person and the leads read it). Done already: 409 `debrief.already_done`.',
  },
  'POST /v1/staff/:id/supervision-sessions': {
    operationId: 'recordSupervision',
    summary: 'Record a supervision session held with an intervener',
    description:
      'A lead of the program. Each intervener needs `supervisionMinMinutes` per `supervisionEvery` period (calendar months such as P1M, or a fixed span); ' +
      'a period that ends short notifies the intervener and the leads once (`supervision_due`).',
    idempotent: true,
  },
  'GET /v1/staff/:id/supervision-sessions': {
    operationId: 'listSupervision',
    summary: "An intervener's supervision sessions, newest first",
    description: 'The intervener themself or a lead of their program; anyone else 404.',
  },
  'GET /v1/reports/welfare': {
    operationId: 'getWelfareReport',
    summary: "The team's welfare: exposure per week against the cap, debriefs, supervision",
    description:
      'A lead of the program only; an evaluator gets 404 `program.not_found` (welfare is never shown to evaluators). Per intervener and for the ' +
      'team: exposure hours per UTC ISO week overlapping `[from, to)` (zero-filled) with the weeks at or over `weeklyExposureCap`; debriefs created ' +
      'in the window, done, done on time, pending and overdue now; supervision minutes per `supervisionEvery` period overlapping the window and ' +
      'the ended periods short of `supervisionMinMinutes`. Figures about staff for their own leads: nothing is suppressed. More than 1000 ' +
      'supervision periods in the window: 400 `report.invalid_window`.',
  },
  'POST /v1/cases/:id/holds': {
    operationId: 'placeHold',
    summary: 'Put a case on legal hold',
    description:
      'A lead or dpo of the program (a dpo sees no case contents; the hold names the case by id). While a hold is in force (not released, `until` ahead) ' +
      'retention skips the case (audited as `retention.skipped_hold`) and erasing it is 409 `case.on_hold`.',
    idempotent: true,
  },
  'DELETE /v1/holds/:id': {
    operationId: 'releaseHold',
    summary: 'Release a hold',
    description: 'The hold stays on the record with who released it and when; releasing a released hold changes nothing.',
  },
  'GET /v1/holds': {
    operationId: 'listHolds',
    summary: "The program's holds, newest first",
    description: '`active=true` (the default): only those in force now; `false`: every hold, released ones included.',
  },
  'GET /v1/retention/preview': {
    operationId: 'previewRetention',
    summary: 'What retention will erase within a period',
    description:
      'The retention job’s own predicate (one function, two callers) evaluated at now + `within` (default P30D): cases never contacted ' +
      '`retentionNeverContacted` after flagging and cases closed `retentionClosed` after closing, without a hold in force then; each with its rule and due time.',
  },
  'GET /v1/programs/:id/record-of-processing': {
    operationId: 'getRecordOfProcessing',
    summary: 'The Art. 30 record of processing',
    description:
      'Built when asked from the program’s `dataProtection` settings, its retention periods, what the code holds and protects, and live counts ' +
      '(cases by status, erasures, the suppression list, open and overdue requests, retention overdue, held cases, the share of flags attested public). Never hand-maintained.',
  },
  'POST /v1/reports/snapshots': {
    operationId: 'createReportSnapshot',
    summary: 'Freeze a report as it is now',
    description:
      'Computes the report with the parameters its own route takes (validated by the same schema) and stores it for good with the ' +
      "program's settings version; `hash` chains the program's snapshots like the audit log. `trial` takes `{ trialId }`, " +
      '`assessments` the query of `GET /v1/reports/assessments`.',
    idempotent: true,
  },
  'GET /v1/reports/snapshots': {
    operationId: 'listReportSnapshots',
    summary: "A program's report snapshots, newest first",
    description: 'Each without its body (one `GET /v1/reports/snapshots/{id}` away).',
  },
  'GET /v1/reports/snapshots/:id': {
    operationId: 'getReportSnapshot',
    summary: 'Read a frozen report',
    description: 'The snapshot with its body as computed, its settings version and its hash.',
  },
  'GET /v1/reports/snapshots/:id/verify': {
    operationId: 'verifyReportSnapshot',
    summary: "Recompute a snapshot's hash chain",
    description:
      "Recomputes every hash from the program's first snapshot up to this one: `ok: false` when any stored snapshot was changed after it was made.",
  },
  'GET /v1/exports/cases': {
    operationId: 'exportCases',
    summary: 'Pseudonymised case-level export for evaluation',
    description:
      'One row per case flagged in `[from, to)`: anonymous facts, ISO weeks (never times), counts and codes; `pseudoId` and `holderPseudoId` ' +
      'are keyed to the caller (stable across their exports, unlinkable to anyone else’s). No handle, URL, display name or free text. ' +
      'Rows in an ideology × platform × language × riskLevel class under `minCellSize` have `language`, then `platform`, set to `"other"`. ' +
      'Every export is audited with the cases it held. `format=csv` answers the same rows as RFC 4180 CSV.',
  },

  'POST /v1/dsr': {
    operationId: 'createDataSubjectRequest',
    summary: 'Record a data-subject request (access, objection, erasure, rectification)',
    description:
      'A dpo or lead of the program. The request names a profile (`platform` and `handle`, a URL form accepted), never a case: it is matched with ' +
      "flagging's normalisation against every case of the program, open or closed, and the cases earlier requests about the same subject matched " +
      '(erased since); `suppressed` says an earlier erasure left only a keyed hash. Only that hash is stored, never the handle. `dueAt` is ' +
      '`receivedAt` + one calendar month (31 January → 28/29 February). Another program: 404 `program.not_found`; an invalid handle: 400 ' +
      '`profile.invalid_handle`; `receivedAt` in the future: 400 `dsr.received_in_future`.',
    idempotent: true,
  },
  'GET /v1/dsr': {
    operationId: 'listDataSubjectRequests',
    summary: "The program's data-subject requests, soonest deadline first",
    description:
      'A dpo or lead of the program. `status=open|closed|overdue` (`overdue`: open with the effective due date, `extendedUntil` else `dueAt`, passed).',
  },
  'GET /v1/dsr/:id': {
    operationId: 'getDataSubjectRequest',
    summary: 'Read one data-subject request with its matches',
    description: "A dpo or lead of the program; another program's request is 404 `dsr.not_found`.",
  },
  'POST /v1/dsr/:id/extend': {
    operationId: 'extendDataSubjectRequest',
    summary: 'Extend the deadline once, by two calendar months',
    description:
      '`extendedUntil` = `dueAt` + P2M, with the reason. A second extension: 409 `dsr.already_extended`; a closed request: 409 `dsr.closed`.',
  },
  'POST /v1/dsr/:id/close': {
    operationId: 'closeDataSubjectRequest',
    summary: 'Close a data-subject request: fulfilled, refused or no data',
    description:
      'Fulfilling an `objection` or `erasure` erases every match still holding data and puts the profile on the suppression list (it can never be ' +
      'flagged again, 422 `profile.suppressed`), in one transaction. A match on hold: 409 `case.on_hold` and nothing changes. Closed already: 409 `dsr.closed`.',
  },
  'GET /v1/dsr/:id/export': {
    operationId: 'exportDataSubjectAccess',
    summary: 'Everything held about the subject of an access request',
    description:
      'A dpo of the program; `access` requests only (409 `dsr.not_access`). Per matched case: identity, indicators, touchpoints (metadata and ' +
      'summaries), notes of visibility `case` (never `leads`), follow-ups, assessments, referrals and case events, with staff shown by role only. ' +
      'Safeguarding text is included only once a dpo marked the concern reviewed (`POST /v1/safeguarding/{id}/dpo-review`); the others are named ' +
      "in `concernsPendingReview`. An erased match says only a keyed hash is held. With the program's `dataProtection` facts and retention periods. " +
      'Audited with every case it held.',
  },
  'POST /v1/safeguarding/:id/dpo-review': {
    operationId: 'reviewConcernForExport',
    summary: "Mark a safeguarding concern's text reviewed by a dpo",
    description:
      'A dpo of the program; subject access exports include the concern’s text from then on. Marking it again keeps the first review.',
  },
  'GET /v1/audit': {
    operationId: 'listAuditEntries',
    summary: 'Read the audit log',
    description:
      'Append-only and hash-chained, oldest first: one entry for every read or write of case data. Filter by actor or case. A dpo reads their own program’s entries only.',
  },
  'GET /v1/audit/verify': {
    operationId: 'verifyAuditChain',
    summary: "Verify the audit log's hash chain",
    description:
      'Recomputes the chain and names the first entry that no longer fits, if any. For a dpo, only their program’s entries are checked and counted.',
  },
  'POST /v1/admin/jobs/:name/run': {
    operationId: 'runJob',
    summary: 'Run a scheduled job now',
    description:
      '`retention`, `rollup`, `no-contact-scan`, `reconcile` or `supervision-scan`. 202 once queued; with `wait=true`, 200 when it has finished (or 202 if it takes over a minute). ' +
      'An unknown job is 404; 503 when the queue backend is down.',
  },
};
