import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { closeDsr, createDsr, dpoReviewConcern, exportDsr, extendDsr, getDsr, listDsr } from '../../../domain/dsr/service.js';
import { effectiveDueAt } from '../../../domain/dsr/rules.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { decodeCursor, emptyBody, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import {
  closeDsrBody,
  createDsrBody,
  dpoReviewSchema,
  dsrCursor,
  dsrExportSchema,
  dsrQuery,
  dsrSchema,
  extendDsrBody,
} from '../../schemas/dsr.js';

/** Data-subject requests (API.md, Data protection operations): a program's dpos and leads. */
const DSR_STAFF = ['dpo', 'lead'] as const;

export const dsrRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/dsr',
    {
      config: { auth: DSR_STAFF },
      schema: { tags: ['data-protection'], body: createDsrBody, response: { 201: dsrSchema, ...errorResponses(400, 404, 409, 422) } },
    },
    async (request, reply) => idempotent(deps, request, reply, 201, (uow) => createDsr(uow.tx, uow, request.body)),
  );

  app.get(
    '/v1/dsr',
    {
      config: { auth: DSR_STAFF },
      schema: { tags: ['data-protection'], querystring: dsrQuery, response: { 200: page(dsrSchema), ...errorResponses(400) } },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const at = decodeCursor(cursor, dsrCursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listDsr(uow.tx, uow, { status, limit, after: at ? [at[0], at[1]] : undefined }),
      );
      return toPage(
        rows,
        limit,
        (r) => r,
        (r) => [effectiveDueAt(r).toISOString(), r.id],
      );
    },
  );

  app.get(
    '/v1/dsr/:id',
    {
      config: { auth: DSR_STAFF },
      schema: { tags: ['data-protection'], params: idParams, response: { 200: dsrSchema, ...errorResponses(400, 404) } },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => getDsr(uow.tx, uow, request.params.id)),
  );

  app.post(
    '/v1/dsr/:id/extend',
    {
      config: { auth: DSR_STAFF },
      schema: {
        tags: ['data-protection'],
        params: idParams,
        body: extendDsrBody,
        response: { 200: dsrSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => run(deps, actorOf(request), 'write', (uow) => extendDsr(uow.tx, uow, request.params.id, request.body.reason)),
  );

  app.post(
    '/v1/dsr/:id/close',
    {
      config: { auth: DSR_STAFF },
      schema: {
        tags: ['data-protection'],
        params: idParams,
        body: closeDsrBody,
        response: { 200: dsrSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => run(deps, actorOf(request), 'write', (uow) => closeDsr(uow.tx, uow, request.params.id, request.body)),
  );

  app.get(
    '/v1/dsr/:id/export',
    {
      config: { auth: ['dpo'] },
      schema: { tags: ['data-protection'], params: idParams, response: { 200: dsrExportSchema, ...errorResponses(400, 404, 409) } },
    },
    // A write: the export's audit entry commits with the reads it records.
    async (request) => run(deps, actorOf(request), 'write', (uow) => exportDsr(uow.tx, uow, request.params.id)),
  );

  app.post(
    '/v1/safeguarding/:id/dpo-review',
    {
      config: { auth: ['dpo'] },
      schema: {
        tags: ['data-protection'],
        params: idParams,
        body: emptyBody,
        response: { 200: dpoReviewSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => run(deps, actorOf(request), 'write', (uow) => dpoReviewConcern(uow.tx, uow, request.params.id)),
  );
};
