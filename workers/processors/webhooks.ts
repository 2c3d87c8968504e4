import { deliverWebhook } from '../../src/domain/notifications/webhook.js';
import { run, SYSTEM } from '../../src/domain/unit-of-work.js';
import type { Processor } from '../types.js';

// 'autocommit': no transaction is held open while the receiver answers.
export const deliver: Processor<'webhooks', 'deliver'> = async (p, deps) =>
  run(deps, SYSTEM, 'autocommit', (uow) =>
    deliverWebhook(uow.tx, uow.clock, p.notificationId, {
      allowPrivate: deps.webhookAllowPrivate ?? false,
      resolveHost: deps.resolveHost,
      fetch: deps.fetch,
    }),
  );
