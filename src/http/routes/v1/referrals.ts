import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { createReferral, listReferrals, setReferralStatus, toReferralView } from '../../../domain/referrals/service.js';
import { run } from '../../../domain/unit-of-work.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { createForCase } from '../../idempotency.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import { createReferralBody, patchReferralBody, referralQuery, referralSchema } from '../../schemas/referrals.js';

/** Referring is case work: the holder (or cover) and the program's leads; an analyst also reads those of a case in triage. */
const REFERRERS = ['lead', 'intervener'] as const;

export const referralRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/referrals',
    {
      config: { auth: REFERRERS },
      schema: {
        tags: ['data-protection'],
        summary: 'Record a referral to another service, with the consent behind it',
        params: idParams,
        body: createReferralBody,
        response: { 201: referralSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    // Tied to the case: its stored replay holds the basis and note, which erasure drops with the case.
    async (request, reply) =>
      createForCase(deps, request, reply, async (uow) =>
        toReferralView(await createReferral(uow.tx, uow, request.params.id, request.body)),
      ),
  );

  app.get(
    '/v1/cases/:id/referrals',
    {
      config: { auth: ['lead', 'analyst', 'intervener'] },
      schema: {
        tags: ['data-protection'],
        summary: "A case's referrals, oldest first",
        params: idParams,
        querystring: referralQuery,
        response: { 200: page(referralSchema), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) => listReferrals(uow.tx, uow, request.params.id, { limit, after }));
      return toPage(rows, limit, toReferralView);
    },
  );

  app.patch(
    '/v1/referrals/:id',
    {
      config: { auth: REFERRERS },
      schema: {
        tags: ['data-protection'],
        summary: 'Record what became of a referral',
        params: idParams,
        body: patchReferralBody,
        response: { 200: referralSchema, ...errorResponses(400, 404, 409) },
      },
    },
    async (request) =>
      toReferralView(
        await run(deps, actorOf(request), 'write', (uow) => setReferralStatus(uow.tx, uow, request.params.id, request.body.status)),
      ),
  );
};
