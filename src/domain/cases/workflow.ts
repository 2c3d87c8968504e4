import { DomainError } from '../errors.js';
import type { Role } from '../staff/principal.js';
import type { CASE_STATUSES, OUTCOMES, STAGES } from '../vocabulary.js';

export type CaseStatus = (typeof CASE_STATUSES)[number];
export type CaseAction = 'triage_accept' | 'triage_reject' | 'approve' | 'assign' | 'close' | 'reopen';

/** Admins run programs and staff; case work belongs to these roles. */
export type CaseRole = Exclude<Role, 'admin' | 'evaluator' | 'dpo'>;

interface Transition {
  from: readonly CaseStatus[];
  to: CaseStatus | 'same';
  /** Who may take the action: the action routes' `config.auth` is this list (403 for anyone else). */
  roles: readonly CaseRole[];
}

/** Every allowed status change and who may make it. Anything else is 409 case.invalid_transition. */
export const TRANSITIONS: Record<CaseAction, Transition> = {
  triage_accept: { from: ['flagged'], to: 'accepted', roles: ['analyst', 'lead'] },
  triage_reject: { from: ['flagged'], to: 'rejected', roles: ['analyst', 'lead'] },
  approve: { from: ['accepted'], to: 'approved', roles: ['lead'] },
  // `accepted` is assignable only when the program does not require approval (checked below).
  assign: { from: ['accepted', 'approved', 'active'], to: 'active', roles: ['lead'] },
  close: { from: ['accepted', 'approved', 'active'], to: 'closed', roles: ['lead', 'intervener'] },
  reopen: { from: ['closed'], to: 'active', roles: ['lead'] },
};

export function checkTransition(action: CaseAction, status: CaseStatus, opts: { requireApproval: boolean }): CaseStatus {
  const t = TRANSITIONS[action];
  const allowed = t.from.includes(status) && !(action === 'assign' && status === 'accepted' && opts.requireApproval);
  if (!allowed) {
    const hint = action === 'assign' && status === 'accepted' ? ' This program requires approval before assignment.' : '';
    throw new DomainError(409, 'case.invalid_transition', `Cannot ${action.replace('_', ' ')} a case that is ${status}.${hint}`, {
      currentStatus: status,
    });
  }
  return t.to === 'same' ? status : t.to;
}

export type Outcome = (typeof OUTCOMES)[number];
type Stage = (typeof STAGES)[number];
const STAGE_ORDER: readonly Stage[] = ['none', 'contacted', 'responded', 'sustained'];

/** The stage an outcome claims the conversation reached (API.md, Cases: close). */
const OUTCOME_NEEDS: Partial<Record<Outcome, Stage>> = {
  positive_change: 'responded',
  disengaged: 'responded',
  declined: 'responded',
  no_response: 'contacted',
};

/** A closing outcome must describe what happened: 409 case.invalid_outcome otherwise. */
export function checkOutcome(outcome: Outcome, stage: Stage): void {
  const needs = OUTCOME_NEEDS[outcome];
  if (needs && STAGE_ORDER.indexOf(stage) < STAGE_ORDER.indexOf(needs)) {
    throw new DomainError(409, 'case.invalid_outcome', `Outcome ${outcome} needs a case that reached ${needs}; this one is at ${stage}.`, {
      stage,
      needs,
    });
  }
}
