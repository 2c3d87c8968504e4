import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { rankCandidates } from '../../../domain/cases/candidates.js';
import {
  approve,
  assign,
  type CaseWithProfile,
  caseEventsOf,
  close,
  createCase,
  listCases,
  patchCase,
  readCase,
  reopen,
  toCaseView,
  triage,
} from '../../../domain/cases/repository.js';
import type { Ctx } from '../../../domain/context.js';
import { eraseOnRequest } from '../../../domain/retention/erase.js';
import type { Tx } from '../../../db/client.js';
import { etag, requireIfMatch } from '../../concurrency.js';
import { ctxOf, flushJobs } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import {
  approveBody,
  assignBody,
  candidateSchema,
  caseEventSchema,
  caseFilter,
  caseSchema,
  closeBody,
  createCaseBody,
  eraseBody,
  patchCaseBody,
  reopenBody,
  triageBody,
} from '../../schemas/cases.js';
import { cursorParam, decodeCursor, errorResponses, idParams, limitParam, page, toPage } from '../../schemas/common.js';

const CASE_READERS = ['lead', 'analyst', 'intervener'] as const;

export const caseRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases',
    {
      config: { auth: ['analyst', 'lead'] },
      schema: { tags: ['cases'], body: createCaseBody, response: { 201: caseSchema, ...errorResponses(400, 404, 409, 422) } },
    },
    async (request, reply) => {
      const ctx = ctxOf(deps, request);
      return idempotent(deps, request, reply, 201, async (tx) => toCaseView(await createCase(tx, ctx, request.body)), (v) => v.id);
    },
  );

  app.get(
    '/v1/cases',
    {
      config: { auth: CASE_READERS },
      schema: {
        tags: ['cases'],
        querystring: caseFilter.extend({ limit: limitParam, cursor: cursorParam }),
        response: { 200: page(caseSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await listCases(deps.db, ctxOf(deps, request), { ...filter, limit, after: decodeCursor(cursor) });
      return toPage(rows, limit, toCaseView, (r) => r.case.id);
    },
  );

  app.get(
    '/v1/cases/:id',
    {
      config: { auth: CASE_READERS },
      schema: { tags: ['cases'], params: idParams, response: { 200: caseSchema, ...errorResponses(400, 404) } },
    },
    async (request, reply) => {
      const found = await readCase(deps.db, ctxOf(deps, request), request.params.id);
      reply.header('etag', etag(found.case.version));
      return toCaseView(found);
    },
  );

  app.patch(
    '/v1/cases/:id',
    {
      config: { auth: CASE_READERS },
      schema: {
        tags: ['cases'],
        params: idParams,
        body: patchCaseBody,
        headers: z.object({ 'if-match': z.string().optional() }),
        response: { 200: caseSchema, ...errorResponses(400, 404, 412, 428) },
      },
    },
    async (request, reply) => {
      const version = requireIfMatch(request.headers['if-match']);
      const updated = await deps.db.transaction((tx) => patchCase(tx, ctxOf(deps, request), request.params.id, version, request.body));
      reply.header('etag', etag(updated.case.version));
      return toCaseView(updated);
    },
  );

  /** Workflow actions answer with the updated case; a wrong state is 409 case.invalid_transition. */
  function action<B extends z.ZodType>(
    path: string,
    roles: readonly ('lead' | 'analyst' | 'intervener')[],
    body: B,
    run: (tx: Tx, ctx: Ctx, id: string, body: z.output<B>) => Promise<CaseWithProfile>,
    summary: string,
  ) {
    app.post(
      `/v1/cases/:id/${path}`,
      {
        config: { auth: roles },
        schema: { tags: ['cases'], summary, params: idParams, body, response: { 200: caseSchema, ...errorResponses(400, 404, 409) } },
      },
      async (request, reply) => {
        const ctx = ctxOf(deps, request);
        const updated = await deps.db.transaction((tx) => run(tx, ctx, (request.params as { id: string }).id, request.body as z.output<B>));
        await flushJobs(deps, ctx);
        reply.header('etag', etag(updated.case.version));
        return toCaseView(updated);
      },
    );
  }

  action('triage', ['analyst', 'lead'], triageBody, (tx, ctx, id, b) => triage(tx, ctx, id, b.decision, b.reason), 'Accept or reject a flagged case');
  action('approve', ['lead'], approveBody, (tx, ctx, id, b) => approve(tx, ctx, id, b.note ?? null), 'Approve first contact');
  action('assignment', ['lead'], assignBody, (tx, ctx, id, b) => assign(tx, ctx, id, b), 'Assign (or reassign) the case to an intervener');
  action('close', ['lead', 'intervener'], closeBody, (tx, ctx, id, b) => close(tx, ctx, id, b.outcome, b.note ?? null), 'Close the case with an outcome');
  action('reopen', ['lead'], reopenBody, (tx, ctx, id, b) => reopen(tx, ctx, id, b.reason), 'Reopen a closed case with its last holder');
  action(
    'erase',
    ['lead'],
    eraseBody,
    (tx, ctx, id, b) => eraseOnRequest(tx, ctx, id, b.reason),
    'Erase identity and free text now; the profile goes on the suppression list; anonymous counts remain',
  );

  app.get(
    '/v1/cases/:id/candidates',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['cases'],
        params: idParams,
        response: { 200: z.object({ items: z.array(candidateSchema) }), ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ items: await deps.db.transaction((tx) => rankCandidates(tx, ctxOf(deps, request), request.params.id)) }),
  );

  app.get(
    '/v1/cases/:id/events',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['cases'],
        params: idParams,
        querystring: z.strictObject({ limit: limitParam, cursor: cursorParam }),
        response: { 200: page(caseEventSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await caseEventsOf(deps.db, ctxOf(deps, request), request.params.id, limit, decodeCursor(cursor));
      return toPage(rows, limit, (r) => ({
        id: r.id,
        kind: r.kind,
        actorId: r.actorId,
        fromStatus: r.fromStatus,
        toStatus: r.toStatus,
        reason: r.reason,
        data: r.data,
        at: r.at,
      }));
    },
  );
};
