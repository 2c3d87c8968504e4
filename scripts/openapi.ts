/**
 * `npm run openapi`: writes the committed OpenAPI document (openapi.json at the repository root)
 * and the TypeScript client's types generated from it (clients/typescript/src/schema.d.ts).
 * test/openapi-document.test.ts and test/clients.test.ts fail when either is stale.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig } from '../src/config/env.js';
import { createDb } from '../src/db/client.js';
import { buildServer } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import type { QueueSystem } from '../src/queue/system.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The committed document. */
export const DOCUMENT_PATH = path.join(ROOT, 'openapi.json');
export const CLIENT_DIR = path.join(ROOT, 'clients', 'typescript');
/** The client's generated types, committed beside its code. */
export const CLIENT_SCHEMA_PATH = path.join(CLIENT_DIR, 'src', 'schema.d.ts');
const OPENAPI_TYPESCRIPT = path.join(CLIENT_DIR, 'node_modules', '.bin', 'openapi-typescript');

const offline = (): never => {
  throw new Error('the OpenAPI build has no queue backend');
};

/**
 * The document the server serves, from the same buildServer, without a database or a queue: the
 * pool never connects (nothing is queried while routes register) and the queue board gets queue
 * objects that are never opened.
 */
export async function buildDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    DATABASE_URL: 'postgres://openapi.invalid/overture',
    OVERTURE_SECRET: 'openapi-build-secret-never-used-0123456789',
    OVERTURE_RATE_LIMIT_PER_IP: '0',
    OVERTURE_RATE_LIMIT_PER_TOKEN: '0',
  });
  const handle = createDb(config.databaseUrl!, { max: 1 });
  const queues: QueueSystem = {
    kind: 'postgres',
    // Bull Board keeps the queue object and asks it nothing until a request comes.
    queue: (name) => Object.assign(Object.create(Queue.prototype) as Queue, { name }),
    enqueue: offline,
    createWorker: offline,
    health: async () => 'degraded',
    close: async () => {},
  };
  const logger = createLogger({ level: 'silent', pretty: false });
  const server = await buildServer({ config, db: handle.db, pool: handle.pool, secret: config.secret!, clock: { now: () => new Date() }, queues, logger });
  try {
    // Swagger lives inside the app's scope: ask for the document as a client would.
    const res = await server.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);
    return res.json() as Record<string, unknown>;
  } finally {
    await server.close();
    await handle.close();
  }
}

const METHOD_ORDER = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options', 'trace'];
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedBy = <T>(obj: Record<string, T>, compare: (a: string, b: string) => number) =>
  Object.fromEntries(Object.entries(obj).sort(([a], [b]) => compare(a, b)));

/**
 * Pretty-printed in a stable order: paths and components by name, methods in HTTP order; inside
 * them, as generated (a schema's fields in the order the schema declares them).
 */
export function renderDocument(doc: Record<string, unknown>): string {
  const paths = sortedBy(doc['paths'] as Record<string, Record<string, unknown>>, byName);
  for (const [p, ops] of Object.entries(paths)) paths[p] = sortedBy(ops, (a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
  const components = Object.fromEntries(
    Object.entries(doc['components'] as Record<string, Record<string, unknown>>).map(([kind, entries]) => [kind, sortedBy(entries, byName)]),
  );
  return `${JSON.stringify({ ...doc, paths, components }, null, 2)}\n`;
}

/** Runs the client package's openapi-typescript on `document`, writing `output`. */
export async function generateClientSchema(document: string, output: string): Promise<void> {
  if (!existsSync(OPENAPI_TYPESCRIPT)) {
    throw new Error('clients/typescript has no node_modules: run `npm ci --prefix clients/typescript` first.');
  }
  await promisify(execFile)(OPENAPI_TYPESCRIPT, [document, '--output', output], { cwd: CLIENT_DIR });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(DOCUMENT_PATH, renderDocument(await buildDocument()));
  console.log('wrote openapi.json');
  try {
    await generateClientSchema(DOCUMENT_PATH, CLIENT_SCHEMA_PATH);
    console.log('wrote clients/typescript/src/schema.d.ts');
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
