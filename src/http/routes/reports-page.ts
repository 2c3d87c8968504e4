import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import type { AppDeps } from '../deps.js';
import { singleLine } from '../schemas/common.js';

/** The package's src/http/pages, found from src/http/routes (tsx) or dist/src/http/routes (compiled). */
function findPagesDir(from = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    dir = path.dirname(dir);
    const candidate = path.join(dir, 'src', 'http', 'pages');
    if (existsSync(path.join(candidate, 'reports.html'))) return candidate;
  }
  return null;
}

// chart.js exports only its entry points, so find its dist/ from the CommonJS entry.
const chartDist = () => path.dirname(createRequire(import.meta.url).resolve('chart.js'));

interface Asset {
  body: Buffer;
  type: string;
  /** Content hash: the page links `?v=<hash>`, so a matching request may be cached for good. */
  hash: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Only these names are ever served: the URL picks a key, never a path. */
function loadAssets(pagesDir: string): Map<string, Asset> {
  const files: [name: string, file: string, type: string][] = [
    ['reports.js', path.join(pagesDir, 'reports.js'), JS],
    ['reports.css', path.join(pagesDir, 'reports.css'), CSS],
    ['chart.umd.js', path.join(chartDist(), 'chart.umd.js'), JS],
  ];
  return new Map(
    files.map(([name, file, type]) => {
      const body = readFileSync(file);
      return [name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) }];
    }),
  );
}

const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const assetParams = z.strictObject({ file: singleLine({ max: 100 }) });
const assetQuery = z.strictObject({ v: singleLine({ max: 64 }).optional() });

/** The program lead's report page: static HTML, JS and CSS; the data comes from /v1/reports with the lead's token. */
export const reportsPage: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const pagesDir = findPagesDir();
  let html: string | null = null;
  let assets = new Map<string, Asset>();
  if (pagesDir) {
    assets = loadAssets(pagesDir);
    html = readFileSync(path.join(pagesDir, 'reports.html'), 'utf8').replace(/\{\{asset:([a-z.]+)\}\}/g, (_m, name: string) => {
      const asset = assets.get(name);
      if (!asset) throw new Error(`reports.html links an unknown asset ${name}`);
      return `/reports/assets/${name}?v=${asset.hash}`;
    });
  } else {
    // A build without src/http/pages (e.g. an image that copies only dist/) keeps the API up.
    deps.logger.warn('src/http/pages not found: GET /reports answers 404');
  }
  const notInstalled = () => new DomainError(404, 'page.not_installed', 'The report page is not installed in this build.');

  app.get('/reports', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    if (html === null) throw notInstalled();
    return (
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', PAGE_CSP)
        // helmet sends nosniff and no-referrer on every response; this page is never framed.
        .header('x-frame-options', 'DENY')
        .send(html)
    );
  });

  app.get(
    '/reports/assets/:file',
    { config: { auth: 'public' }, schema: { hide: true, params: assetParams, querystring: assetQuery } },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (!asset) throw new DomainError(404, 'page.asset_not_found', `No asset ${request.params.file}.`);
      const etag = `"${asset.hash}"`;
      reply
        .type(asset.type)
        .header('etag', etag)
        .header('cache-control', request.query.v === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );
};
