import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../deps.js';

export const safeguardingRoutes: FastifyPluginAsyncZod<AppDeps> = async (_app, _deps) => {};
