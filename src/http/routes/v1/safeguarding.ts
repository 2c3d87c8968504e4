import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { acknowledgeConcern, listConcerns, raiseConcern, toConcernView } from '../../../domain/safeguarding/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { createForCase } from '../../idempotency.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { acknowledgeBody, concernQuery, concernSchema, raiseConcernBody } from '../../schemas/safeguarding.js';

export const safeguardingRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/safeguarding',
    {
      config: { auth: ['lead', 'analyst', 'intervener'] },
      schema: {
        tags: ['safeguarding'],
        summary: 'Raise a safeguarding concern; every lead of the program is notified at once',
        params: idParams,
        body: raiseConcernBody,
        response: { 201: concernSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      createForCase(deps, request, reply, async (uow) => toConcernView(await raiseConcern(uow.tx, uow, request.params.id, request.body))),
  );

  app.post(
    '/v1/safeguarding/:id/acknowledge',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['safeguarding'],
        summary: 'Acknowledge a concern (stops its escalation)',
        params: idParams,
        body: acknowledgeBody,
        response: { 200: concernSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) => {
      const updated = await run(deps, actorOf(request), 'write', (uow) =>
        acknowledgeConcern(uow.tx, uow, request.params.id, request.body?.note ?? null),
      );
      return toConcernView(updated);
    },
  );

  app.get(
    '/v1/safeguarding',
    {
      config: { auth: ['lead', 'analyst', 'intervener'] },
      schema: {
        tags: ['safeguarding'],
        summary: "Concerns, newest first: a lead's program, an intervener's current cases, the ones an analyst raised",
        querystring: concernQuery,
        response: { 200: page(concernSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      // A write: the list's audit entries are appended in its transaction.
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listConcerns(uow.tx, uow, { status, limit, after: decodeCursor(cursor) }),
      );
      return toPage(rows, limit, toConcernView);
    },
  );
};
