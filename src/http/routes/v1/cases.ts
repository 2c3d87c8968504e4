import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { rankCandidates } from '../../../domain/cases/candidates.js';
import { TRANSITIONS } from '../../../domain/cases/workflow.js';
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
} from '../../../domain/cases/service.js';
import { eraseOnRequest } from '../../../domain/retention/erase.js';
import { run, type Unit } from '../../../domain/unit-of-work.js';
import { etag, requireIfMatch } from '../../concurrency.js';
import { actorOf } from '../../ctx.js';
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
      return idempotent(
        deps,
        request,
        reply,
        201,
        async (uow) => toCaseView(await createCase(uow.tx, uow, request.body)),
        (v) => v.id,
      );
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
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listCases(uow.tx, uow, { ...filter, limit, after: decodeCursor(cursor) }),
      );
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
      const found = await run(deps, actorOf(request), 'read', (uow) => readCase(uow.tx, uow, request.params.id));
      reply.header('etag', etag(found.case.version));
      // The most read route: toCaseView picks every field by name and its only non-JSON values are
      // Dates (JSON.stringify writes them as the ISO times caseSchema declares), so it is sent as
      // JSON directly, past the zod encoder (bench/RESULTS.md; the conformance test checks it).
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(JSON.stringify(toCaseView(found)));
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
        response: { 200: caseSchema, ...errorResponses(400, 404, 412, 422, 428) },
      },
    },
    async (request, reply) => {
      const version = requireIfMatch(request.headers['if-match']);
      const updated = await run(deps, actorOf(request), 'write', (uow) => patchCase(uow.tx, uow, request.params.id, version, request.body));
      reply.header('etag', etag(updated.case.version));
      return toCaseView(updated);
    },
  );

  /** Workflow actions answer with the updated case; a wrong state is 409 case.invalid_transition. */
  function action<B extends z.ZodType>(
    path: string,
    roles: readonly ('lead' | 'analyst' | 'intervener')[],
    body: B,
    act: (uow: Unit<'write'>, id: string, body: z.output<B>) => Promise<CaseWithProfile>,
    summary: string,
  ) {
    app.post(
      `/v1/cases/:id/${path}`,
      {
        config: { auth: roles },
        schema: { tags: ['cases'], summary, params: idParams, body, response: { 200: caseSchema, ...errorResponses(400, 404, 409, 422) } },
      },
      async (request, reply) => {
        const updated = await run(deps, actorOf(request), 'write', (uow) =>
          act(uow, (request.params as { id: string }).id, request.body as z.output<B>),
        );
        reply.header('etag', etag(updated.case.version));
        return toCaseView(updated);
      },
    );
  }

  action(
    'triage',
    TRANSITIONS.triage_accept.roles,
    triageBody,
    (uow, id, b) => triage(uow.tx, uow, id, b.decision, b.reason),
    'Accept or reject a flagged case',
  );
  action(
    'approve',
    TRANSITIONS.approve.roles,
    approveBody,
    (uow, id, b) => approve(uow.tx, uow, id, b.note ?? null),
    'Approve first contact',
  );
  action(
    'assignment',
    TRANSITIONS.assign.roles,
    assignBody,
    (uow, id, b) => assign(uow.tx, uow, id, b),
    'Assign (or reassign) the case to an intervener',
  );
  action(
    'close',
    TRANSITIONS.close.roles,
    closeBody,
    (uow, id, b) => close(uow.tx, uow, id, b.outcome, b.note ?? null),
    'Close the case with an outcome',
  );
  action(
    'reopen',
    TRANSITIONS.reopen.roles,
    reopenBody,
    (uow, id, b) => reopen(uow.tx, uow, id, b.reason),
    'Reopen a closed case with its last holder',
  );
  action(
    'erase',
    ['lead'],
    eraseBody,
    (uow, id, b) => eraseOnRequest(uow.tx, uow, id, b.reason),
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
    // A write: the audit entry is appended in the transaction that ranked.
    async (request) => ({ items: await run(deps, actorOf(request), 'read', (uow) => rankCandidates(uow.tx, uow, request.params.id)) }),
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
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        caseEventsOf(uow.tx, uow, request.params.id, limit, decodeCursor(cursor)),
      );
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
