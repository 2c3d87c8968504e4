import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAbsences, recordAbsence, removeAbsence, toAbsenceView } from '../../../domain/staff/absences.js';
import { handOver } from '../../../domain/staff/handover.js';
import { createStaff, getStaff, listStaff, toStaffView, updateStaff } from '../../../domain/staff/service.js';
import { createToken, revokeToken } from '../../../domain/staff/tokens.js';
import { run } from '../../../domain/unit-of-work.js';
import { IDEOLOGIES, STAFF_ROLES } from '../../../domain/vocabulary.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import {
  cursorParam,
  decodeCursor,
  errorResponses,
  freeText,
  idParams,
  isoTime,
  limitParam,
  page,
  singleLine,
  toPage,
} from '../../schemas/common.js';

const tag = singleLine({ min: 1, max: 50 });
const staffSchema = z
  .object({
    id: z.uuid(),
    programId: z.uuid().nullable(),
    name: z.string(),
    role: z.enum(STAFF_ROLES),
    specialisms: z.array(z.string()),
    languages: z.array(z.string()),
    maxCaseload: z.int().nullable(),
    avoid: z
      .array(z.enum(IDEOLOGIES))
      .optional()
      .describe('Leads only (welfare data): ideologies whose cases they opted out of (PUT /v1/me/avoid)'),
    active: z.boolean(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Staff' });

const absenceSchema = z
  .object({
    id: z.uuid(),
    staffId: z.uuid(),
    from: isoTime,
    to: isoTime,
    coverId: z.uuid().nullable(),
    reason: z.string().nullable(),
    createdAt: isoTime,
  })
  .meta({ id: 'Absence' });
const absenceBody = z
  .strictObject({
    from: isoTime,
    to: isoTime.describe('Exclusive: the absence ends at this instant'),
    coverId: z.uuid().nullable().optional().describe('Leads only: an active intervener who works the cases meanwhile'),
    reason: singleLine({ min: 1, max: 200 }).nullable().optional().describe('Never health details: "leave" is enough'),
  })
  .meta({
    example: { from: '2026-12-07T08:00:00Z', to: '2026-12-14T08:00:00Z', coverId: '0193a1e2-8d4f-7e22-b6c1-3a9d0f1e2b03', reason: 'leave' },
  });
const handoverBody = z
  .strictObject({
    toIntervenerId: z.uuid().optional(),
    strategy: z.literal('ranked').optional(),
    reason: singleLine({ min: 1, max: 1000 }),
    note: freeText({ min: 1, max: 2000 }).nullable().optional(),
  })
  .meta({ example: { strategy: 'ranked', reason: 'Sam has left the program', note: 'Dan replies in the evenings; avoid football talk.' } });
const handoverSchema = z
  .object({
    moved: z.array(z.object({ caseId: z.uuid(), toIntervenerId: z.uuid() })),
    skipped: z.array(z.object({ caseId: z.uuid(), code: z.string() })),
  })
  .meta({ id: 'HandoverResult' });

const name = singleLine({ min: 1, max: 200 });
const maxCaseload = z.int().min(0).max(500).nullable();

const createBody = z
  .strictObject({
    programId: z.uuid().nullable().optional(),
    name,
    role: z.enum(STAFF_ROLES),
    specialisms: z.array(tag).max(20).optional(),
    languages: z.array(tag).max(20).optional(),
    maxCaseload: maxCaseload.optional(),
  })
  .meta({
    example: {
      programId: '0193a1e0-5b2c-7a31-8f4e-6d2b9c0e1a01',
      name: 'Sam Rivera',
      role: 'intervener',
      specialisms: ['far_right'],
      languages: ['en', 'es'],
      maxCaseload: 12,
    },
  });
const patchBody = z
  .strictObject({
    name: name.optional(),
    specialisms: z.array(tag).max(20).optional(),
    languages: z.array(tag).max(20).optional(),
    maxCaseload: maxCaseload.optional(),
    active: z
      .boolean()
      .describe('false deactivates: their tokens and queue-board sessions stop at once; not the last active admin (409 staff.last_admin)')
      .optional(),
  })
  .meta({ example: { maxCaseload: 15 } });
const tokenSchema = z
  .object({ id: z.uuid(), token: z.string().describe('Shown once; only a keyed hash is stored') })
  .meta({ id: 'NewToken' });

export const staffRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/staff',
    {
      config: { auth: ['admin'] },
      schema: { tags: ['staff'], body: createBody, response: { 201: staffSchema, ...errorResponses(400, 409, 422) } },
    },
    async (request, reply) => idempotent(deps, request, reply, 201, async (uow) => toStaffView(await createStaff(uow.tx, request.body))),
  );

  app.get(
    '/v1/staff',
    {
      config: { auth: ['admin', 'lead'] },
      schema: {
        tags: ['staff'],
        querystring: z.strictObject({
          programId: z.uuid().optional(),
          role: z.enum(STAFF_ROLES).optional(),
          active: z
            .enum(['true', 'false'])
            .transform((v) => v === 'true')
            .optional(),
          limit: limitParam,
          cursor: cursorParam,
        }),
        response: { 200: page(staffSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listStaff(uow.tx, uow.principal, { ...filter, limit, after: decodeCursor(cursor) }),
      );
      return toPage(rows, limit, (r) => toStaffView(r, request.principal));
    },
  );

  app.get(
    '/v1/staff/:id',
    {
      config: { auth: ['admin'] },
      schema: { tags: ['staff'], params: idParams, response: { 200: staffSchema, ...errorResponses(400, 404) } },
    },
    async (request) => toStaffView(await run(deps, actorOf(request), 'read', (uow) => getStaff(uow.tx, uow.principal, request.params.id))),
  );

  app.patch(
    '/v1/staff/:id',
    {
      config: { auth: ['admin'] },
      schema: { tags: ['staff'], params: idParams, body: patchBody, response: { 200: staffSchema, ...errorResponses(400, 404, 409) } },
    },
    // updateStaff opens its own transaction, so that it forgets cached principals only after commit.
    async (request) =>
      toStaffView(await run(deps, actorOf(request), 'autocommit', (uow) => updateStaff(uow.tx, uow, request.params.id, request.body))),
  );

  app.post(
    '/v1/staff/:id/tokens',
    {
      config: { auth: ['admin'] },
      schema: {
        tags: ['staff'],
        params: idParams,
        body: z.strictObject({ label: singleLine({ min: 1, max: 100 }) }).meta({ example: { label: 'work laptop' } }),
        response: { 201: tokenSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      idempotent(
        deps,
        request,
        reply,
        201,
        async (uow) => {
          await getStaff(uow.tx, uow.principal, request.params.id);
          return createToken(uow.tx, uow.secret, request.params.id, request.body.label);
        },
        () => null,
        () => true,
      ),
  );

  app.delete(
    '/v1/tokens/:id',
    {
      config: { auth: ['admin'] },
      schema: { tags: ['staff'], params: idParams, response: { 204: z.null(), ...errorResponses(400, 404) } },
    },
    async (request, reply) => {
      await run(deps, actorOf(request), 'autocommit', (uow) => revokeToken(uow.tx, request.params.id, uow.clock.now()));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/staff/:id/handover',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['staff'],
        params: idParams,
        body: handoverBody,
        response: { 200: handoverSchema, ...errorResponses(400, 404, 422) },
      },
    },
    // One transaction per case (handOver runs them): a refusal on one case skips it, the rest move.
    async (request) => handOver(deps, actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/v1/staff/:id/absences',
    {
      config: { auth: ['lead', 'intervener'] },
      schema: {
        tags: ['staff'],
        params: idParams,
        body: absenceBody,
        response: { 201: absenceSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      idempotent(
        deps,
        request,
        reply,
        201,
        async (uow) => toAbsenceView(await recordAbsence(uow.tx, uow, request.params.id, request.body)),
        () => null,
      ),
  );

  app.get(
    '/v1/staff/:id/absences',
    {
      config: { auth: ['lead', 'intervener'] },
      schema: {
        tags: ['staff'],
        params: idParams,
        querystring: z.strictObject({ limit: limitParam, cursor: cursorParam }),
        response: { 200: page(absenceSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listAbsences(uow.tx, uow, request.params.id, { limit, after: decodeCursor(cursor) }),
      );
      return toPage(rows, limit, toAbsenceView);
    },
  );

  app.delete(
    '/v1/absences/:id',
    {
      config: { auth: ['lead', 'intervener'] },
      schema: { tags: ['staff'], params: idParams, response: { 204: z.null(), ...errorResponses(400, 404) } },
    },
    async (request, reply) => {
      await run(deps, actorOf(request), 'write', (uow) => removeAbsence(uow.tx, uow, request.params.id));
      return reply.code(204).send(null);
    },
  );
};
