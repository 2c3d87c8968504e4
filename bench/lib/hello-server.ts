/**
 * P0 baseline: a bare Fastify hello-world, run as its own process by bench/api.ts with the same
 * node, the same tsx loader and the same logger settings as the service (pino at LOG_LEVEL=warn,
 * so no request logging). Prints one line with its URL.
 */
import Fastify from 'fastify';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', pretty: false });
const app = Fastify({ loggerInstance: logger });
app.get('/', async () => ({ hello: 'world' }));

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`hello listening on ${url}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
