import type { Tx } from '../../db/client.js';
import { type FactorFigure, factorFigure, pairedChanges } from '../assessments/rules.js';
import { assessmentPairs, findTemplate } from '../assessments/store.js';
import type { Ctx } from '../context.js';
import { invalid } from '../errors.js';
import { programSettings } from '../programs/settings.js';
import { assertReportReader } from './agreement.js';

export interface AssessmentsReportParams {
  programId: string;
  templateId: string;
  /** UTC days, `YYYY-MM-DD`: cases flagged in [from, to). */
  from: string;
  to: string;
}

export interface AssessmentsReport {
  templateId: string;
  factors: FactorFigure[];
  asOf: Date;
  definition: Record<string, string | number>;
}

export function assessmentsDefinition(minCellSize: number) {
  return {
    cases:
      'flagged in [from, to), UTC days, with a baseline and a closure assessment on the template (erased cases included: scores are kept)',
    change: 'per factor and case: the latest closure score minus the earliest baseline score, when both are known (not null)',
    pairs: 'cases whose change is known for the factor',
    method: 'paired change: the mean of the changes, with a two-sided 95% Student t interval (df = pairs - 1), rounded to 4 decimals',
    scale: 'each factor scored 0 to 3; a change runs from -3 to +3',
    minCellSize,
    suppression: 'pairs, meanChange and ci95 are null when a factor has some pairs but fewer than minCellSize',
  };
}

/**
 * GET /v1/reports/assessments (and the `assessments` snapshot): leads and evaluators of the
 * program. `where` names the parameters for the error of an unknown template (`querystring`, or
 * `body.params` for a snapshot).
 */
export async function assessmentsReport(db: Tx, ctx: Ctx, p: AssessmentsReportParams, where = 'querystring'): Promise<AssessmentsReport> {
  assertReportReader(ctx, p.programId);
  const template = await findTemplate(db, p.programId, p.templateId);
  if (!template) throw invalid('assessment.unknown_template', 'No assessment template of this id in the program.', `${where}.templateId`);
  const settings = await programSettings(db, p.programId);
  const pairs = await assessmentPairs(db, p.programId, template.id, new Date(`${p.from}T00:00:00Z`), new Date(`${p.to}T00:00:00Z`));
  const changes = pairedChanges(template.factors, pairs);
  ctx.audit({
    actorId: ctx.principal.staffId,
    action: 'report.assessments',
    targetType: 'program',
    targetId: p.programId,
    programId: p.programId,
    requestId: ctx.requestId,
  });
  return {
    templateId: template.id,
    factors: template.factors.map((f) => factorFigure(f, changes.get(f.key)!, settings.minCellSize)),
    asOf: ctx.clock.now(),
    definition: assessmentsDefinition(settings.minCellSize),
  };
}
