import type { Tx } from '../../db/client.js';
import { uuidv7 } from '../../db/ids.js';
import { auditEvent } from '../audit/log.js';
import { loadCase, loadCaseForWrite } from '../cases/service.js';
import type { Ctx } from '../context.js';
import { conflict, DomainError, invalid, notFound } from '../errors.js';
import type { Role } from '../staff/principal.js';
import type { AssessmentPhase } from '../vocabulary.js';
import { loadSettings } from '../programs/settings.js';
import { checkFreeText } from '../text/identifiers.js';
import {
  ASSESSMENT_NOTE_MAX,
  type AssessmentFactor,
  type Change,
  changeFrom,
  completeScores,
  type FactorScore,
  unknownFactor,
} from './rules.js';
import {
  type AssessmentRow,
  findTemplate,
  insertAssessment,
  insertTemplate,
  latestScores,
  listAssessmentsOf,
  listTemplatesOf,
  type TemplateRow,
} from './store.js';

export type { AssessmentRow, TemplateRow } from './store.js';

export function toTemplateView(t: TemplateRow) {
  return { id: t.id, programId: t.programId, name: t.name, version: t.version, factors: t.factors, createdAt: t.createdAt };
}

export function toAssessmentView(a: AssessmentRow & { change: Change }) {
  return {
    id: a.id,
    caseId: a.caseId,
    templateId: a.templateId,
    phase: a.phase,
    scores: a.scores,
    // Null when none was written, or once the case is erased.
    note: a.note,
    assessedBy: a.assessedBy,
    createdAt: a.createdAt,
    change: a.change,
  };
}

/** Who reads a program's templates (to pick one): its case workers and evaluators. */
const TEMPLATE_READERS: readonly Role[] = ['lead', 'analyst', 'intervener', 'evaluator'];

function assertOwnProgram(ctx: Ctx, programId: string, roles: readonly Role[]) {
  if (!roles.includes(ctx.principal.role) || ctx.principal.programId !== programId) throw notFound('program');
}

export interface TemplateInput {
  name: string;
  factors: AssessmentFactor[];
}

/** POST /v1/programs/{id}/assessment-templates: a lead of the program; the next version of the name (templates never change). */
export async function createTemplate(tx: Tx, ctx: Ctx, programId: string, input: TemplateInput): Promise<TemplateRow> {
  assertOwnProgram(ctx, programId, ['lead']);
  const keys = input.factors.map((f) => f.key);
  // The HTTP schema refuses this first; any other caller is held to the same rule.
  if (new Set(keys).size !== keys.length) throw invalid('assessment.duplicate_factor', 'Factor keys must be distinct.', 'body.factors');
  const factors = input.factors.map((f) => ({ key: f.key, label: f.label }));
  // A concurrent create of the same name took the version first: the next attempt sees it committed and takes the one
  // after. Each failed attempt is another create succeeding, so this many attempts serve that many concurrent ones.
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = await insertTemplate(tx, {
      id: uuidv7(),
      programId,
      name: input.name,
      factors,
      createdBy: ctx.principal.staffId,
      createdAt: ctx.clock.now(),
    });
    if (row) {
      ctx.audit(auditEvent(ctx, 'assessment_template.create', 'assessment_template', row.id, programId));
      return row;
    }
  }
  throw conflict('assessment_template.busy', 'Templates of this name are being created concurrently; try again.');
}

/** GET /v1/programs/{id}/assessment-templates: in creation order. */
export function listTemplates(tx: Tx, ctx: Ctx, programId: string, page: { limit: number; after?: string }): Promise<TemplateRow[]> {
  assertOwnProgram(ctx, programId, TEMPLATE_READERS);
  return listTemplatesOf(tx, programId, page.limit + 1, page.after);
}

export interface AssessmentInput {
  templateId: string;
  phase: AssessmentPhase;
  scores: Record<string, FactorScore>;
  note?: string | null | undefined;
}

/** Which phases a role may record: an analyst assesses at triage (the baseline) and no later. */
export function mayAssess(role: Role, phase: AssessmentPhase): boolean {
  if (role === 'lead' || role === 'intervener') return true;
  return role === 'analyst' && phase === 'baseline';
}

/**
 * POST /v1/cases/{id}/assessments: the case's holder (or cover), a lead, an analyst for the
 * baseline (403 `assessment.phase_not_allowed` otherwise: the answer depends on the role, never on
 * the case). Scores the template does not name are refused; factors left out are unknown.
 */
export async function createAssessment(tx: Tx, ctx: Ctx, caseId: string, input: AssessmentInput) {
  if (!mayAssess(ctx.principal.role, input.phase)) {
    throw new DomainError(403, 'assessment.phase_not_allowed', `The ${ctx.principal.role} role may record only a baseline assessment.`);
  }
  const found = await loadCaseForWrite(tx, ctx, caseId);
  const template = await findTemplate(tx, found.case.programId, input.templateId);
  if (!template) {
    throw invalid('assessment.unknown_template', 'No assessment template of this id in the case’s program.', 'body.templateId');
  }
  const stray = unknownFactor(template.factors, input.scores);
  if (stray !== null) {
    throw invalid('assessment.unknown_factor', 'The template has no factor of this key.', `body.scores.${stray}`);
  }
  const note = input.note?.trim() || null;
  // The HTTP schema refuses this first; any other caller is held to the same rule.
  if (note !== null && note.length > ASSESSMENT_NOTE_MAX) {
    throw invalid('assessment.invalid_note', `A note is at most ${ASSESSMENT_NOTE_MAX} characters.`, 'body.note');
  }
  checkFreeText(await loadSettings(tx, found.case.programId), { 'body.note': note });
  const scores = completeScores(template.factors, input.scores);
  // The case row is locked: no other assessment of it lands between this read and the insert.
  const previous = await latestScores(tx, found.case.id, template.id);
  const row = await insertAssessment(tx, {
    id: uuidv7(),
    caseId: found.case.id,
    programId: found.case.programId,
    templateId: template.id,
    phase: input.phase,
    scores,
    note,
    assessedBy: ctx.principal.staffId,
    createdAt: ctx.clock.now(),
  });
  ctx.audit(auditEvent(ctx, 'assessment.create', 'assessment', row.id, row.programId, row.caseId));
  return { ...row, change: changeFrom(row.scores, previous) };
}

/** GET /v1/cases/{id}/assessments: oldest first, each with its change; one audit entry per page. */
export async function listAssessments(tx: Tx, ctx: Ctx, caseId: string, page: { limit: number; after?: readonly [string, string] }) {
  const found = await loadCase(tx, ctx, caseId);
  const rows = await listAssessmentsOf(tx, found.case.id, page.limit + 1, page.after);
  ctx.audit(auditEvent(ctx, 'assessment.list', 'case', found.case.id, found.case.programId));
  return rows.map(({ previousScores, ...row }) => ({ ...row, change: changeFrom(row.scores, previousScores) }));
}
