import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { liftHold, listHolds, placeHold, retentionPreview, toHoldView } from '../../../domain/holds/service.js';
import { parseDuration } from '../../../domain/programs/duration.js';
import { recordOfProcessing } from '../../../domain/protection/record.js';
import { run } from '../../../domain/unit-of-work.js';
import { HOLD_REASONS } from '../../../domain/vocabulary.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { errorResponses, idParams, isoTime, limitParam, nullableTime } from '../../schemas/common.js';

const holdSchema = z
  .object({
    id: z.uuid(),
    caseId: z.uuid(),
    reason: z.enum(HOLD_REASONS),
    until: nullableTime,
    active: z.boolean().describe('Not released, and `until` (if any) still ahead'),
    createdBy: z.uuid(),
    createdAt: isoTime,
    releasedAt: nullableTime,
    releasedBy: z.uuid().nullable(),
  })
  .meta({ id: 'Hold' });
const holdBody = z
  .strictObject({
    reason: z.enum(HOLD_REASONS),
    until: isoTime.nullable().optional().describe('When the hold ends by itself; none: until released'),
  })
  .meta({ example: { reason: 'safeguarding_investigation' } });

const within = z
  .string()
  .refine((v) => parseDuration(v) !== undefined, 'must be an ISO 8601 duration in W, D, H, M or S, e.g. P30D')
  .default('P30D')
  .meta({ format: 'duration', example: 'P30D' });
const previewSchema = z
  .object({
    items: z.array(z.object({ caseId: z.uuid(), rule: z.enum(['never_contacted', 'closed']), dueAt: isoTime })),
    asOf: isoTime,
  })
  .meta({ id: 'RetentionPreview' });

const recordSchema = z
  .object({
    generatedAt: isoTime,
    controller: z.string().nullable(),
    purposes: z.array(z.string()),
    legalBasis: z.string().nullable(),
    article9Condition: z.string().nullable(),
    categoriesOfSubjects: z.array(z.string()),
    categoriesOfData: z.array(z.string()),
    recipients: z.array(z.string()),
    sources: z.array(z.string()),
    retention: z.object({ neverContacted: z.string(), closed: z.string(), rule: z.string() }),
    securityMeasures: z.array(z.string()),
    counts: z.object({
      casesByStatus: z.record(z.string(), z.int()).describe('Every case status, with 0 where none'),
      erasures: z.int(),
      suppressionListSize: z.int(),
      openDsr: z.int(),
      overdueDsr: z.int(),
      retentionOverdue: z.int(),
      heldCases: z.int(),
      publicnessAttestedShare: z.number().nullable(),
    }),
  })
  .meta({ id: 'RecordOfProcessing' });

/** Holds, the retention preview and the record of processing: a program's leads and dpos (the record also for admins). */
const KEEPERS = ['lead', 'dpo'] as const;

export const protectionRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/holds',
    {
      config: { auth: KEEPERS },
      schema: {
        tags: ['data-protection'],
        params: idParams,
        body: holdBody,
        response: { 201: holdSchema, ...errorResponses(400, 404, 422) },
      },
    },
    async (request, reply) =>
      idempotent(deps, request, reply, 201, async (uow) =>
        toHoldView(await placeHold(uow.tx, uow, request.params.id, request.body), uow.clock.now()),
      ),
  );

  app.delete(
    '/v1/holds/:id',
    {
      config: { auth: KEEPERS },
      schema: { tags: ['data-protection'], params: idParams, response: { 200: holdSchema, ...errorResponses(400, 404) } },
    },
    async (request) =>
      run(deps, actorOf(request), 'write', async (uow) => toHoldView(await liftHold(uow.tx, uow, request.params.id), uow.clock.now())),
  );

  app.get(
    '/v1/holds',
    {
      config: { auth: KEEPERS },
      schema: {
        tags: ['data-protection'],
        querystring: z.strictObject({
          active: z
            .enum(['true', 'false'])
            .default('true')
            .transform((v) => v === 'true'),
          limit: limitParam,
        }),
        response: { 200: z.object({ items: z.array(holdSchema) }), ...errorResponses(400) },
      },
    },
    async (request) =>
      run(deps, actorOf(request), 'read', async (uow) => {
        const rows = await listHolds(uow.tx, uow, request.query.active, request.query.limit);
        return { items: rows.map((h) => toHoldView(h, uow.clock.now())) };
      }),
  );

  app.get(
    '/v1/retention/preview',
    {
      config: { auth: KEEPERS },
      schema: {
        tags: ['data-protection'],
        querystring: z.strictObject({ programId: z.uuid(), within }),
        response: { 200: previewSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) =>
      run(deps, actorOf(request), 'read', (uow) =>
        retentionPreview(uow.tx, uow, request.query.programId, parseDuration(request.query.within)!),
      ),
  );

  app.get(
    '/v1/programs/:id/record-of-processing',
    {
      config: { auth: ['dpo', 'lead', 'admin'] },
      schema: { tags: ['data-protection'], params: idParams, response: { 200: recordSchema, ...errorResponses(400, 404) } },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => recordOfProcessing(uow.tx, uow, request.params.id)),
  );
};
