import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createProgram, getProgram, listPrograms, toProgramView, updateProgram } from '../../../domain/programs/repository.js';
import { programSettingsPatchSchema, programSettingsSchema } from '../../../domain/programs/settings.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { cursorParam, decodeCursor, errorResponses, idParams, isoTime, limitParam, page, toPage } from '../../schemas/common.js';
import { etag, requireIfMatch } from '../../concurrency.js';

const programSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    settings: programSettingsSchema,
    version: z.int(),
    createdAt: isoTime,
    updatedAt: isoTime,
    webhookSecret: z.string().optional().describe('Shown once, in the response that set staffWebhookUrl'),
  })
  .meta({ id: 'Program' });

const name = z.string().trim().min(1).max(200);
const createBody = z.strictObject({ name, settings: programSettingsPatchSchema.optional() });
const patchBody = z.strictObject({ name: name.optional(), settings: programSettingsPatchSchema.optional() });

export const programRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/programs',
    {
      config: { auth: ['admin'] },
      schema: { tags: ['programs'], body: createBody, response: { 201: programSchema, ...errorResponses(400, 409, 422) } },
    },
    async (request, reply) =>
      idempotent(deps, request, reply, 201, (tx) => createProgram(tx, request.body)),
  );

  app.get(
    '/v1/programs',
    {
      config: { auth: ['admin', 'lead'] },
      schema: {
        tags: ['programs'],
        querystring: z.strictObject({ limit: limitParam, cursor: cursorParam }),
        response: { 200: page(programSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await listPrograms(deps.db, request.principal, { limit, after: decodeCursor(cursor) });
      return toPage(rows, limit, (r) => toProgramView(r));
    },
  );

  app.get(
    '/v1/programs/:id',
    {
      config: { auth: ['admin', 'lead'] },
      schema: { tags: ['programs'], params: idParams, response: { 200: programSchema, ...errorResponses(400, 404) } },
    },
    async (request, reply) => {
      const row = await getProgram(deps.db, request.principal, request.params.id);
      reply.header('etag', etag(row.version));
      return toProgramView(row);
    },
  );

  app.patch(
    '/v1/programs/:id',
    {
      config: { auth: ['admin', 'lead'] },
      schema: {
        tags: ['programs'],
        params: idParams,
        body: patchBody,
        headers: z.object({ 'if-match': z.string().optional() }),
        response: { 200: programSchema, ...errorResponses(400, 404, 412, 428) },
      },
    },
    async (request, reply) => {
      const version = requireIfMatch(request.headers['if-match']);
      const view = await updateProgram(deps.db, request.principal, request.params.id, version, request.body);
      reply.header('etag', etag(view.version));
      return view;
    },
  );
};
