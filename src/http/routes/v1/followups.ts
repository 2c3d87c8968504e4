import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import {
  cancelFollowUp,
  completeFollowUp,
  createFollowUp,
  listFollowUps,
  snoozeFollowUp,
  toFollowUpView,
} from '../../../domain/followups/service.js';
import type { FollowUpRow } from '../../../domain/followups/schedule.js';
import { run, type Unit } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { createForCase } from '../../idempotency.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { createFollowUpBody, emptyBody, followUpCursor, followUpQuery, followUpSchema, snoozeBody } from '../../schemas/followups.js';

/** Reminders for staff, never messages to profiles. Analysts and admins have none. */
const FOLLOW_UP_ROLES = ['lead', 'intervener'] as const;

export const followUpRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/follow-ups',
    {
      config: { auth: FOLLOW_UP_ROLES },
      schema: {
        tags: ['follow-ups'],
        summary: "Schedule a reminder for the case's current holder",
        params: idParams,
        body: createFollowUpBody,
        response: { 201: followUpSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      createForCase(deps, request, reply, async (uow) =>
        toFollowUpView(await createFollowUp(uow.tx, uow, request.params.id, request.body)),
      ),
  );

  app.get(
    '/v1/follow-ups',
    {
      config: { auth: FOLLOW_UP_ROLES },
      schema: {
        tags: ['follow-ups'],
        summary: 'Follow-ups by due time: an intervener sees their own, a lead the program’s',
        querystring: followUpQuery,
        response: { 200: page(followUpSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const after = decodeCursor(cursor, followUpCursor);
      // A write: the list's audit entries are appended in its transaction.
      const rows = await run(deps, actorOf(request), 'read', (uow) => listFollowUps(uow.tx, uow, { ...filter, limit, after }));
      return toPage(rows, limit, toFollowUpView, (r) => [r.dueAt.toISOString(), r.id]);
    },
  );

  /** Each answers the follow-up; acting on one that is done or cancelled is 409 follow_up.invalid_transition. */
  function action<B extends z.ZodType>(
    path: string,
    summary: string,
    body: B,
    act: (uow: Unit<'write'>, id: string, body: z.output<B>) => Promise<FollowUpRow>,
  ) {
    app.post(
      `/v1/follow-ups/:id/${path}`,
      {
        config: { auth: FOLLOW_UP_ROLES },
        schema: {
          tags: ['follow-ups'],
          summary,
          params: idParams,
          body,
          response: { 200: followUpSchema, ...errorResponses(400, 404, 409) },
        },
      },
      async (request) => {
        const updated = await run(deps, actorOf(request), 'write', (uow) =>
          act(uow, (request.params as { id: string }).id, request.body as z.output<B>),
        );
        return toFollowUpView(updated);
      },
    );
  }

  action('complete', 'Mark the follow-up done', emptyBody, (uow, id) => completeFollowUp(uow.tx, uow, id));
  action('cancel', 'Cancel the follow-up', emptyBody, (uow, id) => cancelFollowUp(uow.tx, uow, id));
  action('snooze', 'Move the follow-up to a later time and re-arm it', snoozeBody, (uow, id, b) =>
    snoozeFollowUp(uow.tx, uow, id, b.until),
  );
};
