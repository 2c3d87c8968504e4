import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ping } from '../../db/client.js';
import { migrationStatus } from '../../db/migrate.js';
import { registry, watchQueueDepth } from '../../metrics.js';
import type { AppDeps } from '../deps.js';
import { errorResponses } from '../schemas/common.js';

const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  database: z.enum(['ok', 'unreachable']),
  migrations: z.object({ applied: z.int(), expected: z.int(), current: z.boolean() }).nullable(),
  queue: z.object({ backend: z.enum(['redis', 'postgres']), state: z.enum(['ok', 'degraded']) }),
});

const tooMany = errorResponses()[429]!;

export const healthRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  watchQueueDepth(deps.queues);
  app.get(
    '/healthz',
    {
      config: { auth: 'public' },
      schema: { tags: ['health'], security: [], response: { 200: z.object({ status: z.literal('ok') }), 429: tooMany } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'public' },
      schema: { tags: ['health'], security: [], response: { 200: readySchema, 503: readySchema, 429: tooMany } },
    },
    async (_request, reply) => {
      let database: 'ok' | 'unreachable' = 'ok';
      let migrations: z.infer<typeof readySchema>['migrations'] = null;
      try {
        await ping(deps.db);
        migrations = await migrationStatus(deps.pool);
      } catch {
        database = 'unreachable';
      }
      const queueState = database === 'ok' ? await deps.queues.health() : 'degraded';
      // While shutting down, readyz turns 503 so load balancers move traffic away first.
      const ready = database === 'ok' && migrations?.current === true && !app.draining;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        database,
        migrations,
        queue: { backend: deps.queues.kind, state: queueState },
      });
    },
  );

  app.get('/metrics', { config: { auth: 'public' }, schema: { tags: ['health'], security: [], hide: true } }, async (_req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
};
