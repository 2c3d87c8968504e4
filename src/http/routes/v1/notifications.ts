import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../deps.js';

export const notificationRoutes: FastifyPluginAsyncZod<AppDeps> = async (_app, _deps) => {};
