import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { trialReport } from '../../../domain/reports/service.js';
import { getTrial, listTrials, startTrial, stopTrial } from '../../../domain/trials/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { emptyBody, errorResponses, idParams } from '../../schemas/common.js';
import { trialBody, trialListSchema, trialReportSchema, trialSchema } from '../../schemas/trials.js';

/** Trials are designed and stopped by leads; leads and evaluators read them and their report. */
const READERS = ['lead', 'evaluator'] as const;

export const trialRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/programs/:id/trials',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['trials'],
        params: idParams,
        body: trialBody,
        response: { 201: trialSchema, ...errorResponses(400, 404, 409) },
      },
    },
    async (request, reply) => idempotent(deps, request, reply, 201, (uow) => startTrial(uow.tx, uow, request.params.id, request.body)),
  );

  app.get(
    '/v1/programs/:id/trials',
    {
      config: { auth: READERS },
      schema: { tags: ['trials'], params: idParams, response: { 200: trialListSchema, ...errorResponses(400, 404) } },
    },
    async (request) => ({
      items: await run(deps, actorOf(request), 'read', (uow) => listTrials(uow.tx, uow, request.params.id)),
    }),
  );

  app.get(
    '/v1/trials/:id',
    {
      config: { auth: READERS },
      schema: { tags: ['trials'], params: idParams, response: { 200: trialSchema, ...errorResponses(400, 404) } },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => getTrial(uow.tx, uow, request.params.id)),
  );

  app.post(
    '/v1/trials/:id/stop',
    {
      config: { auth: ['lead'] },
      schema: { tags: ['trials'], params: idParams, body: emptyBody, response: { 200: trialSchema, ...errorResponses(400, 404, 409) } },
    },
    async (request) => run(deps, actorOf(request), 'write', (uow) => stopTrial(uow.tx, uow, request.params.id)),
  );

  app.get(
    '/v1/reports/trials/:id',
    {
      config: { auth: READERS },
      schema: { tags: ['reports'], params: idParams, response: { 200: trialReportSchema, ...errorResponses(400, 404) } },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => trialReport(uow.tx, uow, request.params.id)),
  );
};
