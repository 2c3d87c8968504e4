import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_ROLES } from '../../../domain/vocabulary.js';
import { caseloadJson, todayView } from '../../../domain/caseload/today.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { ALL_ROLES } from '../../plugins/auth.js';
import { caseloadSchema } from '../../schemas/caseload.js';
import { errorResponses } from '../../schemas/common.js';

export const meSchema = z
  .object({ id: z.uuid(), name: z.string(), role: z.enum(STAFF_ROLES), programId: z.uuid().nullable() })
  .meta({ id: 'Me' });

export const meRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/me',
    { config: { auth: ALL_ROLES }, schema: { tags: ['me'], response: { 200: meSchema, ...errorResponses() } } },
    async (request) => {
      const p = request.principal;
      return { id: p.staffId, name: p.name, role: p.role, programId: p.programId };
    },
  );

  app.get(
    '/v1/me/caseload',
    {
      config: { auth: ['intervener'] },
      schema: {
        tags: ['me'],
        summary: 'Today: your active cases, overdue follow-ups and unanswered replies first',
        querystring: z.strictObject({}),
        response: { 200: caseloadSchema, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const items = await run(deps, actorOf(request), 'read', (uow) => todayView(uow.tx, uow));
      // Already JSON (see caseloadJson): sent as it is, past the typed zod serializer.
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(caseloadJson(items));
    },
  );
};
