import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Clock } from '../domain/clock.js';
import type { ResolveHost } from '../domain/programs/webhook-target.js';
import type { QueueSystem } from '../queue/system.js';

/** Everything the HTTP app needs, built once by the entry point (or a test) and passed in. */
export interface AppDeps {
  config: Config;
  db: Db;
  pool: pg.Pool;
  /** OVERTURE_SECRET, or the one generated for the embedded database. */
  secret: string;
  clock: Clock;
  queues: QueueSystem;
  logger: Logger;
  /** Resolves a staffWebhookUrl's host to check it (default: DNS); tests inject one. Whether private targets are allowed is `config.webhookAllowPrivate`. */
  resolveHost?: ResolveHost;
}
