import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DIMENSIONS } from '../../../domain/reports/contributions.js';
import { reportCsv } from '../../../domain/reports/csv.js';
import { engagementReport, engagementTrend } from '../../../domain/reports/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { errorResponses, isoTime } from '../../schemas/common.js';
import { checkReportWindow as checkWindow, reportWindow as windowQuery } from '../../schemas/evaluation.js';

// Two numbers as an array, not a tuple: prefixItems trips common OpenAPI tools.
const rate = z
  .object({ value: z.number(), ci95: z.array(z.number()).length(2).describe('95% Wilson score interval: [low, high]') })
  .nullable();
const count = z.int().nullable();
const rowSchema = z.object({
  group: z.string(),
  name: z.string().nullable().optional().describe('groupBy=intervener: the staff member’s name (null on the total row)'),
  flagged: count,
  accepted: count,
  contacted: count,
  responded: count,
  sustained: count,
  positive: count,
  referred: count.describe('Cases with at least one referral'),
  pendingReview: count.optional().describe('With outcomeReview required only: closed cases whose outcome is still provisional or disputed'),
  responseRate: rate,
  sustainedRate: rate,
  positiveRate: rate,
  medianHoursToFirstResponse: z.number().nullable(),
  costPerSustainedCents: z.number().nullable(),
  suppressed: z.boolean(),
  vsRest: z
    .object({
      responseRateDiff: z.number().nullable(),
      sustainedRateDiff: z.number().nullable(),
      pValue: z.number().nullable(),
      responsePValue: z.number().nullable(),
      pValueAdjusted: z.number().nullable().describe('pValue, Holm-adjusted across the approaches of the report'),
      adjusted: z
        .object({
          sustainedRateDiff: z.number(),
          ci95: z.array(z.number()).length(2).describe('95% interval from the Sato variance: [low, high]'),
          strata: z.int().describe('ideology × riskLevel strata holding both the approach and the rest'),
        })
        .nullable()
        .describe('Mantel-Haenszel risk difference of the sustained rate against the rest, within strata of ideology × riskLevel'),
    })
    .nullable()
    .optional(),
});
const reportSchema = z
  .object({ rows: z.array(rowSchema), asOf: isoTime, definition: z.record(z.string(), z.union([z.string(), z.number()])) })
  .meta({ id: 'EngagementReport', description: 'JSON by default; with format=csv, RFC 4180 text/csv with the same numbers' });
const trendSchema = z
  .object({
    interval: z.enum(['day', 'week']),
    buckets: z.array(z.object({ start: z.string(), contacted: count, responded: count, sustained: count, suppressed: z.boolean() })),
    asOf: isoTime,
  })
  .meta({ id: 'EngagementTrend' });

export const reportRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/reports/engagement',
    {
      config: { auth: ['lead', 'evaluator'] },
      schema: {
        tags: ['reports'],
        querystring: z.strictObject({
          ...windowQuery,
          groupBy: z.enum(DIMENSIONS).optional(),
          format: z.enum(['json', 'csv']).default('json'),
        }),
        response: {
          200: {
            description: 'The report: JSON, or RFC 4180 CSV with format=csv',
            content: { 'application/json': { schema: reportSchema }, 'text/csv': { schema: z.string() } },
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { programId, from, to, groupBy, format } = request.query;
      checkWindow(from, to);
      const report = await run(deps, actorOf(request), 'read', (uow) =>
        engagementReport(uow.tx, uow, { programId, from, to }, groupBy ?? null),
      );
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="engagement-${groupBy ?? 'total'}-${from}-${to}.csv"`)
          .header('x-overture-as-of', report.asOf.toISOString())
          .send(Readable.from(reportCsv(report.rows, { vsRest: groupBy === 'approach', names: groupBy === 'intervener' })) as never);
      }
      return report;
    },
  );

  app.get(
    '/v1/reports/engagement/trend',
    {
      config: { auth: ['lead', 'evaluator'] },
      schema: {
        tags: ['reports'],
        querystring: z.strictObject({ ...windowQuery, interval: z.enum(['day', 'week']).default('day') }),
        response: { 200: trendSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { programId, from, to, interval } = request.query;
      checkWindow(from, to);
      return run(deps, actorOf(request), 'read', (uow) => engagementTrend(uow.tx, uow, { programId, from, to }, interval));
    },
  );
};
