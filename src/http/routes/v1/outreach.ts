import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  createOutreachAccount,
  listOutreachAccounts,
  retireOutreachAccount,
  toOutreachAccountView,
} from '../../../domain/outreach/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { decodeCursor, emptyBody, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { createOutreachAccountBody, outreachAccountQuery, outreachAccountSchema } from '../../schemas/outreach.js';

export const outreachRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/programs/:id/outreach-accounts',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['data-protection'],
        summary: 'Register a disclosed outreach account',
        params: idParams,
        body: createOutreachAccountBody,
        response: { 201: outreachAccountSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      idempotent(deps, request, reply, 201, async (uow) =>
        toOutreachAccountView(await createOutreachAccount(uow.tx, uow, request.params.id, request.body)),
      ),
  );

  app.get(
    '/v1/programs/:id/outreach-accounts',
    {
      config: { auth: ['lead', 'analyst', 'intervener', 'evaluator', 'dpo'] },
      schema: {
        tags: ['data-protection'],
        summary: "A program's outreach accounts",
        params: idParams,
        querystring: outreachAccountQuery,
        response: { 200: page(outreachAccountSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listOutreachAccounts(uow.tx, uow, request.params.id, { limit, after }),
      );
      return toPage(rows, limit, toOutreachAccountView);
    },
  );

  app.post(
    '/v1/outreach-accounts/:id/retire',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['data-protection'],
        summary: 'Retire an outreach account',
        params: idParams,
        body: emptyBody,
        response: { 200: outreachAccountSchema, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) =>
      toOutreachAccountView(await run(deps, actorOf(request), 'write', (uow) => retireOutreachAccount(uow.tx, uow, request.params.id))),
  );
};
