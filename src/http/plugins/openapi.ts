import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export default fp(async function openapi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Overture API',
        version: '1.0.0',
        description:
          'Caseload and workflow service for peer-to-peer counter-extremism outreach. Overture never contacts anyone: ' +
          'people send every message outside the system; Overture records what happened and reminds staff.',
        license: { name: 'AGPL-3.0-or-later', identifier: 'AGPL-3.0-or-later' },
      },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Personal access token `ovt_…`' } },
      },
      security: [{ bearer: [] }],
    },
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      const schema = out.schema as Record<string, unknown>;
      // Every operation gets a stable operationId (generated clients name methods after it) and a summary.
      const words = `${input.route.method} ${input.url}`
        .replace(/[/:{}-]+/g, ' ')
        .trim()
        .split(/\s+/)
        .filter((w) => w !== 'v1');
      schema['operationId'] ??= words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('');
      schema['summary'] ??= `${String(input.route.method)} ${input.url}`;
      return out;
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: false } });
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());
});
