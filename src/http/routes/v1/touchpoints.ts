import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { APPROACHES, CHANNELS, DIRECTIONS, SENTIMENTS } from '../../../domain/vocabulary.js';
import { listTouchpoints, logTouchpoint, toTouchpointView, voidTouchpoint } from '../../../domain/touchpoints/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { createForCase } from '../../idempotency.js';
import {
  cursorParam,
  decodeCursor,
  errorResponses,
  freeText,
  idParams,
  isoTime,
  isoTimeText,
  limitParam,
  nullableTime,
  page,
  singleLine,
  toPage,
} from '../../schemas/common.js';

const touchpointBody = z
  .strictObject({
    direction: z.enum(DIRECTIONS),
    channel: z.enum(CHANNELS),
    occurredAt: isoTime,
    approaches: z.array(z.enum(APPROACHES)).max(APPROACHES.length).optional(),
    sentiment: z.enum(SENTIMENTS).optional(),
    costCents: z.int().min(0).max(1_000_000).optional(),
    summary: freeText({ max: 500 }).optional(),
    minutesSpent: z.int().min(0).max(600).optional().describe('Welfare: minutes you spent on it (counts toward your weekly exposure)'),
    distressing: z.boolean().optional().describe('Welfare: you found it distressing (a debrief is owed, due debriefWithin later)'),
    outreachAccountId: z
      .uuid()
      .optional()
      .describe(
        'Outbound only: the live, disclosed outreach account of the case’s platform it was sent from (required under requireOutreachAccount; 422 `touchpoint.outreach_account_invalid` otherwise)',
      ),
  })
  .meta({
    example: {
      direction: 'outbound',
      channel: 'direct_message',
      occurredAt: '2026-12-01T09:30:00Z',
      approaches: ['empathetic', 'questioning'],
      sentiment: 'neutral',
      summary: 'Asked what drew them to the video they shared',
    },
  });

const touchpointSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    direction: z.enum(DIRECTIONS),
    channel: z.enum(CHANNELS),
    occurredAt: isoTime,
    approaches: z.array(z.enum(APPROACHES)),
    sentiment: z.enum(SENTIMENTS).nullable(),
    costCents: z.int().nullable(),
    summary: z.string().nullable(),
    loggedBy: z.uuid(),
    createdAt: isoTime,
    voidedAt: nullableTime.describe('Set when it was voided as logged in error: it still reads back, and counts nowhere'),
    voidedBy: z.uuid().nullable(),
    voidReason: z.string().nullable(),
    minutesSpent: z.int().nullable().describe('Shown to its logger and the leads only (welfare data about staff); null to anyone else'),
    distressing: z.boolean().nullable().describe('Shown to its logger and the leads only; null to anyone else'),
    outreachAccountId: z.uuid().nullable().describe('The outreach account an outbound message was sent from; null when none was named'),
  })
  .meta({ id: 'Touchpoint' });

const voidBody = z
  .strictObject({ reason: singleLine({ min: 1, max: 500 }).describe('Why it was logged in error (kept with the touchpoint; no identity)') })
  .meta({ example: { reason: 'Logged on the wrong case' } });

const cursorSchema = z.tuple([isoTimeText, z.uuid()]);

export const touchpointRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/touchpoints',
    {
      config: { auth: ['lead', 'intervener'] },
      schema: {
        tags: ['touchpoints'],
        summary: 'Log a message a person sent or received (Overture never sends anything)',
        params: idParams,
        body: touchpointBody,
        response: { 201: touchpointSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      createForCase(deps, request, reply, async (uow) =>
        toTouchpointView(await logTouchpoint(uow.tx, uow, request.params.id, request.body), uow.principal),
      ),
  );

  // An action on an existing touchpoint, like the follow-up actions: no Idempotency-Key (a repeat is 409 touchpoint.already_void).
  app.post(
    '/v1/touchpoints/:id/void',
    {
      config: { auth: ['lead', 'intervener'] },
      schema: {
        tags: ['touchpoints'],
        summary: 'Void a touchpoint logged in error (its logger within 7 days, or a lead)',
        params: idParams,
        body: voidBody,
        response: { 200: touchpointSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) =>
      toTouchpointView(
        await run(deps, actorOf(request), 'write', (uow) => voidTouchpoint(uow, request.params.id, request.body.reason)),
        request.principal,
      ),
  );

  app.get(
    '/v1/cases/:id/touchpoints',
    {
      config: { auth: ['lead', 'analyst', 'intervener'] },
      schema: {
        tags: ['touchpoints'],
        params: idParams,
        querystring: z.strictObject({ limit: limitParam, cursor: cursorParam }),
        response: { 200: page(touchpointSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor, cursorSchema);
      const rows = await run(deps, actorOf(request), 'read', (uow) => listTouchpoints(uow.tx, uow, request.params.id, { limit, after }));
      return toPage(
        rows,
        limit,
        (r) => toTouchpointView(r, request.principal),
        (r) => [r.occurredAt.toISOString(), r.id],
      );
    },
  );
};
