import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { setOwnAvoid } from '../../../domain/staff/service.js';
import { run } from '../../../domain/unit-of-work.js';
import {
  completeDebrief,
  listDebriefs,
  listSupervision,
  logTime,
  myWelfare,
  recordSupervision,
  toDebriefView,
  toSupervisionView,
  toTimeLogView,
} from '../../../domain/welfare/service.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import {
  avoidBody,
  avoidSchema,
  completeDebriefBody,
  debriefCursor,
  debriefQuery,
  debriefSchema,
  supervisionBody,
  supervisionCursor,
  supervisionQuery,
  supervisionSchema,
  timeBody,
  timeLogSchema,
  welfareSchema,
} from '../../schemas/welfare.js';

/**
 * Intervener welfare (API.md): data about staff, not subjects, seen only by the person and their
 * program's leads; evaluators, analysts and admins have no welfare routes at all.
 */
/** Program staff may ask; only the person and the leads are answered, everyone else gets 404 (as if there were nothing). */
const WELFARE_READERS = ['lead', 'intervener', 'analyst', 'evaluator'] as const;

export const welfareRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/me/time',
    {
      config: { auth: ['intervener'] },
      schema: { tags: ['welfare'], body: timeBody, response: { 201: timeLogSchema, ...errorResponses(400, 422) } },
    },
    async (request, reply) => idempotent(deps, request, reply, 201, async (uow) => toTimeLogView(await logTime(uow.tx, uow, request.body))),
  );

  app.get(
    '/v1/me/welfare',
    { config: { auth: ['intervener'] }, schema: { tags: ['welfare'], response: { 200: welfareSchema, ...errorResponses() } } },
    async (request) => run(deps, actorOf(request), 'read', (uow) => myWelfare(uow.tx, uow)),
  );

  app.put(
    '/v1/me/avoid',
    {
      config: { auth: ['intervener'] },
      schema: { tags: ['welfare'], body: avoidBody, response: { 200: avoidSchema, ...errorResponses(400) } },
    },
    async (request) => ({ avoid: await run(deps, actorOf(request), 'write', (uow) => setOwnAvoid(uow.tx, uow, request.body.avoid)) }),
  );

  app.get(
    '/v1/debriefs',
    {
      config: { auth: WELFARE_READERS },
      schema: { tags: ['welfare'], querystring: debriefQuery, response: { 200: page(debriefSchema), ...errorResponses(400, 404) } },
    },
    async (request) => {
      const { limit, cursor, status, staffId } = request.query;
      const at = decodeCursor(cursor, debriefCursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listDebriefs(uow.tx, uow, { status, staffId, limit, after: at ? [at[0], at[1]] : undefined }),
      );
      return toPage(rows, limit, toDebriefView, (r) => [r.dueAt.toISOString(), r.id]);
    },
  );

  app.post(
    '/v1/debriefs/:id/complete',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['welfare'],
        params: idParams,
        body: completeDebriefBody,
        response: { 200: debriefSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request) =>
      toDebriefView(
        await run(deps, actorOf(request), 'write', (uow) => completeDebrief(uow.tx, uow, request.params.id, request.body?.note ?? null)),
      ),
  );

  app.post(
    '/v1/staff/:id/supervision-sessions',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['welfare'],
        params: idParams,
        body: supervisionBody,
        response: { 201: supervisionSchema, ...errorResponses(400, 404, 422) },
      },
    },
    async (request, reply) =>
      idempotent(deps, request, reply, 201, async (uow) =>
        toSupervisionView(await recordSupervision(uow.tx, uow, request.params.id, request.body)),
      ),
  );

  app.get(
    '/v1/staff/:id/supervision-sessions',
    {
      config: { auth: WELFARE_READERS },
      schema: {
        tags: ['welfare'],
        params: idParams,
        querystring: supervisionQuery,
        response: { 200: page(supervisionSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const at = decodeCursor(cursor, supervisionCursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listSupervision(uow.tx, uow, request.params.id, { limit, after: at ? [at[0], at[1]] : undefined }),
      );
      return toPage(rows, limit, toSupervisionView, (r) => [r.at.toISOString(), r.id]);
    },
  );
};
