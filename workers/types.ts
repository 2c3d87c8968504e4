import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../src/db/client.js';
import type { Clock } from '../src/domain/clock.js';
import type { Fetch } from '../src/domain/notifications/webhook.js';
import type { ResolveHost } from '../src/domain/programs/webhook-target.js';
import type { JobName, Jobs, Payload, QueueName } from '../src/queue/jobs.js';
import type { QueueSystem } from '../src/queue/system.js';

export interface WorkerDeps {
  db: Db;
  queues: QueueSystem;
  clock: Clock;
  logger: Logger;
  secret: string;
  /** The webhook transport; tests may pass their own. Default: node:http(s), checking every address at connect. */
  fetch?: Fetch;
  /** OVERTURE_WEBHOOK_ALLOW_PRIVATE (unset: false, so a missing setting never opens private targets). */
  webhookAllowPrivate?: boolean;
  /** Resolves a webhook host at connect time (default: DNS); tests inject one. */
  resolveHost?: ResolveHost;
}

export type Processor<Q extends QueueName, J extends JobName<Q>> = (payload: Payload<Q, J>, deps: WorkerDeps, job: Job) => Promise<unknown>;

/** Exactly one processor per job name: a missing one is a type error, and a runtime refusal. */
export type ProcessorMap = { [Q in QueueName]: { [J in keyof Jobs[Q] & string]: Processor<Q, J> } };
