import { deliverWebhook } from '../../src/domain/notifications/webhook.js';
import type { Processor } from '../types.js';

export const deliver: Processor<'webhooks', 'deliver'> = async (p, deps) =>
  deliverWebhook(deps.db, deps.clock, p.notificationId, {
    allowPrivate: deps.webhookAllowPrivate ?? false,
    resolveHost: deps.resolveHost,
    fetch: deps.fetch,
  });
