import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { createNote, listNotes, toNoteView } from '../../../domain/notes/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { createForCase } from '../../idempotency.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { createNoteBody, noteCursor, noteQuery, noteSchema } from '../../schemas/notes.js';

/** Case notes are case contents: analysts (whose scope ends at triage) and admins have none. */
const NOTE_ROLES = ['lead', 'intervener'] as const;

export const noteRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/notes',
    {
      config: { auth: NOTE_ROLES },
      schema: {
        tags: ['notes'],
        summary: 'Add a note to a case',
        params: idParams,
        body: createNoteBody,
        response: { 201: noteSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      createForCase(deps, request, reply, async (uow) => toNoteView(await createNote(uow.tx, uow, request.params.id, request.body))),
  );

  app.get(
    '/v1/cases/:id/notes',
    {
      config: { auth: NOTE_ROLES },
      schema: {
        tags: ['notes'],
        summary: "A case's notes, newest first",
        params: idParams,
        querystring: noteQuery,
        response: { 200: page(noteSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const at = decodeCursor(cursor, noteCursor);
      const after = at ? ([at[0].toISOString(), at[1]] as const) : undefined;
      const rows = await run(deps, actorOf(request), 'read', (uow) => listNotes(uow.tx, uow, request.params.id, { limit, after }));
      return toPage(rows, limit, toNoteView, (r) => [r.createdAt.toISOString(), r.id]);
    },
  );
};
