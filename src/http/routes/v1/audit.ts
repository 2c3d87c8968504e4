import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit, verifyAudit } from '../../../domain/audit/query.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { cursorParam, decodeCursor, errorResponses, isoTime, limitParam, page, toPage } from '../../schemas/common.js';

const entrySchema = z
  .object({
    id: z.uuid(),
    at: isoTime,
    actorId: z.uuid().nullable(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.uuid().nullable(),
    programId: z.uuid().nullable(),
    caseId: z.uuid().nullable(),
    caseIds: z.array(z.uuid()).nullable().describe('A list read: the cases it showed (one entry, found by ?caseId= for each)'),
    requestId: z.string().nullable(),
    hash: z.string(),
    prevHash: z.string(),
  })
  .meta({ id: 'AuditEntry' });

/** A dpo reads and verifies their own program's entries only; an admin every entry. */
const programFilter = (request: FastifyRequest) =>
  request.principal.role === 'dpo' ? (request.principal.programId ?? '00000000-0000-0000-0000-000000000000') : undefined;

export const auditRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/audit',
    {
      config: { auth: ['admin', 'dpo'] },
      schema: {
        tags: ['audit'],
        summary: 'Append-only entries, oldest first, one for every read or write of case data (a dpo: their program’s)',
        querystring: z.strictObject({ actorId: z.uuid().optional(), caseId: z.uuid().optional(), limit: limitParam, cursor: cursorParam }),
        response: { 200: page(entrySchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor, actorId, caseId } = request.query;
      const afterSeq = decodeCursor(cursor, z.int().min(0));
      const rows = await run(deps, actorOf(request), 'read', (uow) =>
        listAudit(uow.tx, { actorId, caseId, programId: programFilter(request), afterSeq, limit }),
      );
      return toPage(
        rows,
        limit,
        ({ seq: _seq, ...entry }) => entry,
        (r) => r.seq,
      );
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { auth: ['admin', 'dpo'] },
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain; reports the first entry that no longer fits',
        response: {
          200: z.object({ ok: z.boolean(), checked: z.int(), firstBrokenId: z.uuid().nullable() }).meta({ id: 'AuditVerification' }),
          ...errorResponses(),
        },
      },
    },
    async (request) => run(deps, actorOf(request), 'read', (uow) => verifyAudit(uow.tx, undefined, programFilter(request))),
  );
};
