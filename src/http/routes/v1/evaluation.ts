import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agreementReport } from '../../../domain/reports/agreement.js';
import { exportCases, exportCsv } from '../../../domain/reports/export.js';
import { createSnapshot, getSnapshot, snapshotPage, verifySnapshot } from '../../../domain/reports/snapshots.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { decodeCursor, encodeCursor, errorResponses, idParams } from '../../schemas/common.js';
import {
  agreementQuery,
  agreementSchema,
  checkReportWindow,
  exportQuery,
  exportSchema,
  seqCursor,
  snapshotBody,
  snapshotListQuery,
  snapshotPageSchema,
  snapshotSchema,
  verifySchema,
} from '../../schemas/evaluation.js';

/** Reports, snapshots and the pseudonymised export: leads and evaluators of the program (API.md, Roles). */
const EVALUATION_ROLES = ['lead', 'evaluator'] as const;

export const evaluationRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/reports/agreement',
    {
      config: { auth: EVALUATION_ROLES },
      schema: {
        tags: ['reports'],
        querystring: agreementQuery,
        response: { 200: agreementSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { programId, from, to } = request.query;
      checkReportWindow(from, to);
      return run(deps, actorOf(request), 'read', (uow) => agreementReport(uow.tx, uow, { programId, from, to }));
    },
  );

  app.post(
    '/v1/reports/snapshots',
    {
      config: { auth: EVALUATION_ROLES },
      schema: {
        tags: ['reports'],
        body: snapshotBody,
        response: { 201: snapshotSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.report !== 'trial') {
        checkReportWindow(body.params.from, body.params.to, 'body.params');
      }
      return idempotent(deps, request, reply, 201, (uow) => createSnapshot(deps.db, uow, body));
    },
  );

  app.get(
    '/v1/reports/snapshots',
    {
      config: { auth: EVALUATION_ROLES },
      schema: {
        tags: ['reports'],
        querystring: snapshotListQuery,
        response: { 200: snapshotPageSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { programId, limit, cursor } = request.query;
      const before = decodeCursor(cursor, seqCursor);
      const { items, nextSeq } = await run(deps, actorOf(request), 'read', (uow) => snapshotPage(uow.tx, uow, programId, limit, before));
      return { items, nextCursor: nextSeq === null ? null : encodeCursor(nextSeq) };
    },
  );

  app.get(
    '/v1/reports/snapshots/:id',
    {
      config: { auth: EVALUATION_ROLES },
      schema: { tags: ['reports'], params: idParams, response: { 200: snapshotSchema, ...errorResponses(400, 404) } },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => getSnapshot(uow.tx, uow, request.params.id)),
  );

  app.get(
    '/v1/reports/snapshots/:id/verify',
    {
      config: { auth: EVALUATION_ROLES },
      schema: { tags: ['reports'], params: idParams, response: { 200: verifySchema, ...errorResponses(400, 404) } },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => verifySnapshot(uow.tx, uow, request.params.id)),
  );

  app.get(
    '/v1/exports/cases',
    {
      config: { auth: EVALUATION_ROLES },
      schema: {
        tags: ['reports'],
        querystring: exportQuery,
        response: {
          200: {
            description: 'One row per case flagged in the window: JSON, or RFC 4180 CSV with format=csv',
            content: { 'application/json': { schema: exportSchema }, 'text/csv': { schema: z.string() } },
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { programId, from, to, format } = request.query;
      checkReportWindow(from, to);
      const { rows, minCellSize } = await run(deps, actorOf(request), 'read', (uow) => exportCases(uow.tx, uow, { programId, from, to }));
      reply.header('cache-control', 'no-store');
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="cases-${from}-${to}.csv"`)
          .send(Readable.from(exportCsv(rows)) as never);
      }
      return { rows, definition: exportDefinition(minCellSize) };
    },
  );
};

function exportDefinition(minCellSize: number) {
  return {
    cases: 'flagged in [from, to)',
    pseudonyms: 'HMAC-SHA256 keyed by the server secret over your staff id and the case (or holder) id, 16 hex digits',
    weeks: 'ISO 8601 weeks (week-numbering year), UTC',
    generalisation:
      'a row whose ideology × platform × language × riskLevel class has fewer than minCellSize rows gets language "other"; then, counted again, platform "other"',
    erased: 'an erased case keeps its anonymous facts and counts only: no pseudoId, language or holder',
    minCellSize,
  };
}
