import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_ROLES } from '../../../domain/vocabulary.js';
import { createStaff, getStaff, listStaff, toStaffView, updateStaff } from '../../../domain/staff/service.js';
import { createToken, revokeToken } from '../../../domain/staff/tokens.js';
import { run } from '../../../domain/unit-of-work.js';
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
    active: z.boolean(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Staff' });

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
      return toPage(rows, limit, toStaffView);
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
      toStaffView(
        await run(deps, actorOf(request), 'autocommit', (uow) => updateStaff(uow.tx, uow.principal, request.params.id, request.body)),
      ),
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
};
