import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { adjudicate, listReviews, pendingReviews, submitReview, toReviewView } from '../../../domain/reviews/service.js';
import type { ReviewRow } from '../../../domain/reviews/store.js';
import { run } from '../../../domain/unit-of-work.js';
import type { OutcomeStatus } from '../../../domain/vocabulary.js';
import { actorOf } from '../../ctx.js';
import type { AppDeps } from '../../deps.js';
import { idempotent } from '../../idempotency.js';
import { decodeCursor, errorResponses, idParams, page, toPage } from '../../schemas/common.js';
import {
  adjudicationBody,
  pendingQuery,
  reviewBody,
  reviewListSchema,
  reviewPacketSchema,
  reviewReceiptSchema,
} from '../../schemas/reviews.js';

/** Peers review each other's cases: any case worker of the program (not limited by case scope). */
const REVIEWER_ROLES = ['lead', 'analyst', 'intervener'] as const;

const receipt = ({ review, outcomeStatus }: { review: ReviewRow; outcomeStatus: OutcomeStatus }) => {
  const { note: _note, ...codes } = toReviewView(review);
  return { ...codes, outcomeStatus };
};

export const reviewRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/cases/:id/outcome-reviews',
    {
      config: { auth: REVIEWER_ROLES },
      schema: {
        tags: ['reviews'],
        summary: "Review a closed case's outcome",
        params: idParams,
        body: reviewBody,
        response: { 201: reviewReceiptSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    // Stored for replay without a case id: a reviewer is outside the case's scope, and the receipt holds no free text.
    async (request, reply) =>
      idempotent(deps, request, reply, 201, async (uow) => receipt(await submitReview(uow.tx, uow, request.params.id, request.body))),
  );

  app.get(
    '/v1/cases/:id/outcome-reviews',
    {
      config: { auth: REVIEWER_ROLES },
      schema: {
        tags: ['reviews'],
        summary: "A case's outcome reviews (blind until yours is in)",
        params: idParams,
        response: { 200: reviewListSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const list = await run(deps, actorOf(request), 'read', (uow) => listReviews(uow.tx, uow, request.params.id));
      return { ...list, items: list.items.map(toReviewView) };
    },
  );

  app.post(
    '/v1/cases/:id/outcome-adjudication',
    {
      config: { auth: ['lead'] },
      schema: {
        tags: ['reviews'],
        summary: 'Settle a disputed outcome',
        params: idParams,
        body: adjudicationBody,
        response: { 201: reviewReceiptSchema, ...errorResponses(400, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      idempotent(deps, request, reply, 201, async (uow) => receipt(await adjudicate(uow.tx, uow, request.params.id, request.body))),
  );

  app.get(
    '/v1/reviews/pending',
    {
      config: { auth: REVIEWER_ROLES },
      schema: {
        tags: ['reviews'],
        summary: 'Cases waiting for your review',
        querystring: pendingQuery,
        response: { 200: page(reviewPacketSchema), ...errorResponses(400) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      const rows = await run(deps, actorOf(request), 'read', (uow) => pendingReviews(uow.tx, uow, { limit, after }));
      return toPage(
        rows,
        limit,
        (r) => r,
        (r) => r.caseId,
      );
    },
  );
};
