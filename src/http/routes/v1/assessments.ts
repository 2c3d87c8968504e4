import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  createAssessment,
  createTemplate,
  listAssessments,
  listTemplates,
  toAssessmentView,
  toTemplateView,
} from '../../../domain/assessments/service.js';
import { invalid } from '../../../domain/errors.js';
import { assessmentsReport } from '../../../domain/reports/assessments.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { createForCase, idempotent } from '../../idempotency.js';
import {
  assessmentCursor,
  assessmentQuery,
  assessmentSchema,
  assessmentsReportQuery,
  assessmentsReportSchema,
  createAssessmentBody,
  createTemplateBody,
  templateQuery,
  templateSchema,
} from '../../schemas/assessments.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { checkReportWindow } from '../../schemas/evaluation.js';

/** Assessments are case contents: the holder, a lead, an analyst (their scope ends at triage, so a baseline only). */
const ASSESSOR_ROLES = ['lead', 'analyst', 'intervener'] as const;

/**
 * zod drops a `__proto__` key from a record without a word (so it can never set a prototype); a
 * score under that name is refused instead, like any key the template lacks, never ignored.
 */
async function refuseProtoScore(request: FastifyRequest) {
  const scores = (request.body as { scores?: unknown } | null | undefined)?.scores;
  if (scores !== null && typeof scores === 'object' && Object.hasOwn(scores, '__proto__')) {
    throw invalid('request.invalid', 'body.scores.__proto__: is not a factor key', 'body.scores.__proto__');
  }
}

export const assessmentRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/programs/:id/assessment-templates',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['assessments'],
        summary: 'Create an assessment template',
        params: idParams,
        body: createTemplateBody,
        response: { 201: templateSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      idempotent(deps, request, reply, 201, async (uow) =>
        toTemplateView(await createTemplate(uow.tx, uow, request.params.id, request.body)),
      ),
  );

  app.get(
    '/v1/programs/:id/assessment-templates',
    {
      config: { auth: ['lead', 'analyst', 'intervener', 'evaluator'] },
      schema: {
        tags: ['assessments'],
        summary: "A program's assessment templates",
        params: idParams,
        querystring: templateQuery,
        response: { 200: page(templateSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) => listTemplates(uow.tx, uow, request.params.id, { limit, after }));
      return toPage(rows, limit, toTemplateView);
    },
  );

  app.post(
    '/v1/cases/:id/assessments',
    {
      config: { auth: ASSESSOR_ROLES },
      preValidation: refuseProtoScore,
      schema: {
        tags: ['assessments'],
        summary: 'Record an assessment of a case',
        params: idParams,
        body: createAssessmentBody,
        response: { 201: assessmentSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    // Tied to the case: its stored replay holds the note, which erasure drops with the case.
    async (request, reply) =>
      createForCase(deps, request, reply, async (uow) =>
        toAssessmentView(await createAssessment(uow.tx, uow, request.params.id, request.body)),
      ),
  );

  app.get(
    '/v1/cases/:id/assessments',
    {
      config: { auth: ASSESSOR_ROLES },
      schema: {
        tags: ['assessments'],
        summary: "A case's assessments, oldest first",
        params: idParams,
        querystring: assessmentQuery,
        response: { 200: page(assessmentSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const at = decodeCursor(cursor, assessmentCursor);
      const after = at ? ([at[0].toISOString(), at[1]] as const) : undefined;
      const rows = await run(deps, actorOf(request), 'read', (uow) => listAssessments(uow.tx, uow, request.params.id, { limit, after }));
      return toPage(rows, limit, toAssessmentView, (r) => [r.createdAt.toISOString(), r.id]);
    },
  );

  app.get(
    '/v1/reports/assessments',
    {
      config: { auth: ['lead', 'evaluator'] },
      schema: {
        tags: ['reports'],
        querystring: assessmentsReportQuery,
        response: { 200: assessmentsReportSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { programId, templateId, from, to } = request.query;
      checkReportWindow(from, to);
      return run(deps, actorOf(request), 'read', (uow) => assessmentsReport(uow.tx, uow, { programId, templateId, from, to }));
    },
  );
};
