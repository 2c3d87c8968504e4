import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { listInbox, readNotification, toNotificationView } from '../../../domain/notifications/inbox.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { ALL_ROLES } from '../../plugins/auth.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { inboxQuery, notificationSchema, readBody } from '../../schemas/notifications.js';

export const notificationRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/me/notifications',
    {
      config: { auth: ALL_ROLES },
      schema: {
        tags: ['me'],
        summary: "The caller's own notifications, newest first",
        querystring: inboxQuery,
        response: { 200: page(notificationSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, unread } = request.query;
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listInbox(uow.tx, uow, { unread, limit, after: decodeCursor(cursor) }),
      );
      return toPage(rows, limit, toNotificationView);
    },
  );

  app.post(
    '/v1/me/notifications/:id/read',
    {
      config: { auth: ALL_ROLES },
      schema: {
        tags: ['me'],
        summary: 'Mark one of your notifications read (again is harmless)',
        params: idParams,
        body: readBody,
        response: { 200: notificationSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) =>
      toNotificationView(await run(deps, actorOf(request), 'write', (uow) => readNotification(uow.tx, uow, request.params.id))),
  );
};
