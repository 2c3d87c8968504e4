import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createProgram,
  getProgram,
  listPrograms,
  settingsHistory,
  toProgramView,
  updateProgram,
} from '../../../domain/programs/service.js';
import { programSettingsPatchSchema, programSettingsSchema } from '../../../domain/programs/settings.js';
import { assertWebhookTarget, resolveWithDns, type WebhookPolicy } from '../../../domain/programs/webhook-target.js';
import { run } from '../../../domain/unit-of-work.js';
import { etag, requireIfMatch } from '../../concurrency.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import {
  cursorParam,
  decodeCursor,
  errorResponses,
  idParams,
  isoTime,
  limitParam,
  page,
  singleLine,
  toPage,
} from '../../schemas/common.js';

const programSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    settings: programSettingsSchema,
    version: z.int(),
    settingsVersion: z.int().describe('1 at creation, +1 each change of settings'),
    createdAt: isoTime,
    updatedAt: isoTime,
    webhookSecret: z
      .string()
      .optional()
      .describe('Shown once, in the response that set staffWebhookUrl: `whsec_` + base64 of 32 random bytes (a Standard Webhooks secret)'),
  })
  .meta({ id: 'Program' });

const name = singleLine({ min: 1, max: 200 });
const createBody = z
  .strictObject({ name, settings: programSettingsPatchSchema.optional() })
  .meta({ example: { name: 'North West outreach', settings: { followUpAfter: 'P3D', defaultMaxCaseload: 12 } } });
const patchBody = z
  .strictObject({ name: name.optional(), settings: programSettingsPatchSchema.optional() })
  .meta({ example: { settings: { responseSla: 'PT12H' } } });

export const programRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const webhooks: WebhookPolicy = { allowPrivate: deps.config.webhookAllowPrivate, resolve: deps.resolveHost ?? resolveWithDns };

  app.post(
    '/v1/programs',
    {
      config: { auth: ['admin'] },
      schema: { tags: ['programs'], body: createBody, response: { 201: programSchema, ...errorResponses(400, 409, 422) } },
    },
    async (request, reply) => {
      // Resolved before the transaction opens: DNS never holds a database connection.
      await assertWebhookTarget(request.body.settings?.staffWebhookUrl, webhooks);
      return idempotent(
        deps,
        request,
        reply,
        201,
        (uow) => createProgram(uow.tx, request.body, uow.principal.staffId),
        () => null,
        (view) => view.webhookSecret !== undefined,
      );
    },
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
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listPrograms(uow.tx, uow.principal, { limit, after: decodeCursor(cursor) }),
      );
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
      const row = await run(deps, actorOf(request), 'read', (uow) => getProgram(uow.tx, uow.principal, request.params.id));
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
      if (request.body.settings?.staffWebhookUrl) {
        // Out of scope stays 404 before the URL is looked at (or resolved).
        await run(deps, actorOf(request), 'read', (uow) => getProgram(uow.tx, uow.principal, request.params.id));
        await assertWebhookTarget(request.body.settings.staffWebhookUrl, webhooks);
      }
      // One transaction: the version check in its UPDATE refuses a change made since the read, and the settings history is written with it.
      const view = await run(deps, actorOf(request), 'write', (uow) =>
        updateProgram(uow.tx, uow.principal, request.params.id, version, request.body),
      );
      reply.header('etag', etag(view.version));
      return view;
    },
  );

  app.get(
    '/v1/programs/:id/settings-history',
    {
      config: { auth: ['admin', 'lead'] },
      schema: {
        tags: ['programs'],
        params: idParams,
        response: {
          200: z
            .object({
              items: z.array(
                z.object({
                  version: z.int(),
                  changedAt: isoTime,
                  changedBy: z.uuid().nullable(),
                  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
                }),
              ),
            })
            .meta({ id: 'SettingsHistory' }),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request) => ({
      items: await run(deps, actorOf(request), 'read', (uow) => settingsHistory(uow.tx, uow.principal, request.params.id)),
    }),
  );
};
