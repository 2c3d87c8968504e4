import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDuration } from '../domain/programs/duration.js';
import { DEFAULT_DATA_DIR } from './package-root.js';

export const ROLES = ['all', 'api', 'worker'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const TOKEN_PATTERN = /^ovt_[A-Za-z0-9_-]{32,}$/;
// Safe inside a Redis hash tag and a quoted PostgreSQL schema name alike.
const QUEUE_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

const blankToUndefined = (value: unknown) => (value === '' ? undefined : value);

const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/.+/.test(v), 'must be a postgres:// or postgresql:// URL');
const redisUrl = z.string().refine((v) => /^rediss?:\/\/.+/.test(v), 'must be a redis:// or rediss:// URL');

export const envSchema = z
  .object({
    PORT: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
    HOST: z.preprocess(blankToUndefined, z.string().min(1).default('127.0.0.1')),
    DATABASE_URL: z.preprocess(blankToUndefined, postgresUrl.optional()),
    REDIS_URL: z.preprocess(blankToUndefined, redisUrl.optional()),
    OVERTURE_DATA_DIR: z.preprocess(blankToUndefined, z.string().min(1).default(DEFAULT_DATA_DIR)),
    OVERTURE_SECRET: z.preprocess(
      blankToUndefined,
      z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
    ),
    OVERTURE_BOOTSTRAP_ADMIN_TOKEN: z.preprocess(
      blankToUndefined,
      z.string().regex(TOKEN_PATTERN, 'must be `ovt_` followed by at least 32 letters, digits, `_` or `-`').optional(),
    ),
    OVERTURE_ROLE: z.preprocess(blankToUndefined, z.enum(ROLES).default('all')),
    LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(LOG_LEVELS).default('info')),
    OVERTURE_RECONCILE_INTERVAL: z.preprocess(
      blankToUndefined,
      z
        .string()
        .refine((v) => parseDuration(v) !== undefined, 'must be an ISO 8601 duration from PT1S to P3660D')
        .default('PT1M'),
    ),
    OVERTURE_RATE_LIMIT_PER_IP: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).default(1200)),
    OVERTURE_RATE_LIMIT_PER_TOKEN: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).default(600)),
    // No default here: it depends on DATABASE_URL (see loadConfig).
    OVERTURE_WEBHOOK_ALLOW_PRIVATE: z.preprocess(
      blankToUndefined,
      z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
    ),
    OVERTURE_TRUST_PROXY: z.preprocess(
      blankToUndefined,
      z
        .string()
        .refine((v) => parseTrustProxy(v) !== undefined, 'must be false, true, a hop count, or a comma-separated list of addresses/CIDRs')
        .default('false'),
    ),
    OVERTURE_QUEUE_PREFIX: z.preprocess(
      blankToUndefined,
      z.string().regex(QUEUE_PREFIX_PATTERN, 'must be 1 to 40 letters, digits, `-` or `_`').default('overture'),
    ),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_URL && !env.OVERTURE_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['OVERTURE_SECRET'],
        message: 'is required when DATABASE_URL is set (it is only generated for the embedded database)',
      });
    }
  });

export type Env = z.output<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  dataDir: string;
  secret: string | undefined;
  bootstrapAdminToken: string | undefined;
  role: (typeof ROLES)[number];
  logLevel: (typeof LOG_LEVELS)[number];
  /** Requests per minute; 0 turns the limit off (benchmarks). */
  rateLimit: { perIp: number; perToken: number };
  /** How often the reconcile safety net runs (ms). */
  reconcileEveryMs: number;
  /** Staff webhooks may reach loopback/private addresses over plain http (off in production by default). */
  webhookAllowPrivate: boolean;
  /** Fastify `trustProxy`: which peers' X-Forwarded-For/-Proto are believed (client address, TLS). */
  trustProxy: boolean | number | string[];
  /** Redis key prefix (`{prefix}`) or the PostgreSQL queue schema's suffix: one per deployment sharing a Redis. */
  queuePrefix: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; a bad variable is reported by name, never with its value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    dataDir: e.OVERTURE_DATA_DIR,
    secret: e.OVERTURE_SECRET,
    bootstrapAdminToken: e.OVERTURE_BOOTSTRAP_ADMIN_TOKEN,
    role: e.OVERTURE_ROLE,
    logLevel: e.LOG_LEVEL,
    rateLimit: { perIp: e.OVERTURE_RATE_LIMIT_PER_IP, perToken: e.OVERTURE_RATE_LIMIT_PER_TOKEN },
    reconcileEveryMs: parseDuration(e.OVERTURE_RECONCILE_INTERVAL)!,
    // The embedded default runs on one machine with local receivers; a real deployment must opt in.
    webhookAllowPrivate: e.OVERTURE_WEBHOOK_ALLOW_PRIVATE === undefined ? !e.DATABASE_URL : e.OVERTURE_WEBHOOK_ALLOW_PRIVATE === 'true',
    trustProxy: parseTrustProxy(e.OVERTURE_TRUST_PROXY)!,
    queuePrefix: e.OVERTURE_QUEUE_PREFIX,
  };
}

/** `false`, `true`, a hop count, or addresses/CIDRs separated by commas; undefined when it is none of these. */
export function parseTrustProxy(value: string): boolean | number | string[] | undefined {
  const v = value.trim();
  if (v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d{1,3}$/.test(v)) return Number(v);
  const entries = v.split(',').map((e) => e.trim());
  return entries.every(isAddressOrCidr) ? entries : undefined;
}

/** Dotted-quad IPv4 or IPv6, with an optional prefix length (not the legacy `127.1` or hex forms). */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(address);
  if (rest.length > 0 || !(v4 || ipaddr.IPv6.isValid(address))) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (v4 ? 32 : 128));
}
