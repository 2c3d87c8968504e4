import { z } from 'zod';
import { invalid } from '../../domain/errors.js';
import { DIMENSIONS } from '../../domain/reports/contributions.js';
import { cursorParam, EARLIEST_TIME, isoTime, LATEST_TIME, limitParam, page } from './common.js';

/** A UTC day: `YYYY-MM-DD`, or an ISO time at 00:00 UTC (as the report routes take it). */
export const reportDay = z
  .string()
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) || /^\d{4}-\d{2}-\d{2}T00:00(:00(\.0+)?)?(Z|\+00:00)$/.test(v),
    'must be a UTC day: YYYY-MM-DD',
  )
  .transform((v) => v.slice(0, 10))
  .refine(
    (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
    'is not a calendar date',
  )
  .refine((v) => {
    const t = Date.parse(`${v}T00:00:00Z`);
    return t >= EARLIEST_TIME && t < LATEST_TIME;
  }, 'must be between 2000-01-01 and 2099-12-31');

export const reportWindow = {
  programId: z.uuid().meta({ example: '0193a1e0-5b2c-7a31-8f4e-6d2b9c0e1a01' }),
  from: reportDay.meta({ example: '2026-11-01' }).describe('First UTC day, inclusive'),
  to: reportDay.meta({ example: '2026-12-01' }).describe('UTC day after the last, exclusive'),
};

const MAX_DAYS = 3660;

/** `to` after `from`, at most MAX_DAYS apart; `where` names the field for the error (`querystring` or `body.params`). */
export function checkReportWindow(from: string, to: string, where = 'querystring') {
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  if (days <= 0) throw invalid('report.invalid_window', '`to` must be after `from`.', `${where}.to`);
  if (days > MAX_DAYS) throw invalid('report.invalid_window', `A report spans at most ${MAX_DAYS} days.`, `${where}.from`);
}

// ---- Agreement

const ci95 = z.array(z.number()).length(2).nullable().describe('95% interval [low, high]; null when kappa is');
export const agreementQuery = z.strictObject(reportWindow);
export const agreementSchema = z
  .object({
    pairs: z.int().describe('Cases closed in the window with two independent reviews'),
    outcome: z.object({ kappa: z.number().nullable(), ci95, observedAgreement: z.number().nullable() }),
    signals: z.array(z.object({ code: z.string(), kappa: z.number().nullable(), ci95, pairs: z.int() })),
    asOf: isoTime,
    definition: z.record(z.string(), z.union([z.string(), z.number()])),
  })
  .meta({ id: 'AgreementReport', description: "Cohen's kappa between two reviewers; null below minCellSize pairs" });

// ---- Snapshots

/** Each report's own parameters (the query of its route, without `format`: a snapshot is JSON). */
export const snapshotParams = {
  engagement: z.strictObject({ ...reportWindow, groupBy: z.enum(DIMENSIONS).optional() }),
  trend: z.strictObject({ ...reportWindow, interval: z.enum(['day', 'week']).default('day') }),
  agreement: z.strictObject(reportWindow),
  trial: z.strictObject({ trialId: z.uuid().describe('The trial of GET /v1/reports/trials/{id}') }),
  assessments: z.strictObject({ ...reportWindow, templateId: z.uuid() }),
};

export const snapshotBody = z
  .discriminatedUnion('report', [
    z.strictObject({ report: z.literal('engagement'), params: snapshotParams.engagement }),
    z.strictObject({ report: z.literal('trend'), params: snapshotParams.trend }),
    z.strictObject({ report: z.literal('agreement'), params: snapshotParams.agreement }),
    z.strictObject({ report: z.literal('trial'), params: snapshotParams.trial }),
    z.strictObject({ report: z.literal('assessments'), params: snapshotParams.assessments }),
  ])
  .meta({ id: 'SnapshotRequest' });

const snapshotFields = {
  id: z.uuid(),
  programId: z.uuid(),
  report: z.enum(['engagement', 'trend', 'agreement', 'trial', 'assessments']),
  params: z.record(z.string(), z.unknown()),
  createdAt: isoTime,
  createdBy: z.uuid(),
  settingsVersion: z.int().describe('The program’s settings version the report was computed under'),
  prevHash: z.string().describe('The hash of the program’s previous snapshot (64 zeros for its first)'),
  hash: z.string().describe('sha256(prevHash ‖ canonical JSON of this snapshot)'),
};
export const snapshotSchema = z
  .object({ ...snapshotFields, body: z.unknown().describe('The report as it was computed') })
  .meta({ id: 'ReportSnapshot' });
export const snapshotSummarySchema = z.object(snapshotFields).meta({ id: 'ReportSnapshotSummary' });
export const snapshotListQuery = z.strictObject({ programId: reportWindow.programId, limit: limitParam, cursor: cursorParam });
export const snapshotPageSchema = page(snapshotSummarySchema);
export const verifySchema = z
  .object({ ok: z.boolean(), checked: z.int().describe('Snapshots of the chain recomputed, from the program’s first to this one') })
  .meta({ id: 'SnapshotVerification' });
export const seqCursor = z.int().min(1);

// ---- The evaluation export

export const exportQuery = z.strictObject({ ...reportWindow, format: z.enum(['json', 'csv']).default('json') });
const isoWeekText = z.string().meta({ example: '2026-W48' });
export const exportRowSchema = z.object({
  pseudoId: z
    .string()
    .nullable()
    .describe('Keyed per caller: stable across your exports, unlinkable to another caller’s; null for an erased case'),
  ideology: z.string(),
  platform: z.string().describe('"other" where generalised'),
  language: z.string().nullable().describe('"other" where generalised; null when unknown or erased'),
  riskLevel: z.string(),
  status: z.string(),
  stage: z.string(),
  flaggedWeek: isoWeekText,
  contactedWeek: isoWeekText.nullable(),
  respondedWeek: isoWeekText.nullable(),
  sustainedWeek: isoWeekText.nullable(),
  closedWeek: isoWeekText.nullable(),
  touchpoints: z.int(),
  inbound: z.int(),
  outbound: z.int(),
  firstOutboundApproaches: z.array(z.string()).nullable(),
  outcome: z.string().nullable(),
  outcomeStatus: z.string().nullable(),
  signals: z.array(z.string()),
  trialArm: z.string().nullable(),
  holderPseudoId: z.string().nullable().describe('The holder, keyed per caller like pseudoId'),
});
export const exportSchema = z
  .object({ rows: z.array(exportRowSchema), definition: z.record(z.string(), z.union([z.string(), z.number()])) })
  .meta({ id: 'CaseExport', description: 'JSON by default; with format=csv, RFC 4180 text/csv with the same rows' });
