import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { singleLine } from '../schemas/common.js';

/**
 * What the browser pages (/reports, /app) share: finding their files from src/ or dist/, content
 * hashes for `?v=`, one strict CSP, and the two routes of a page (its HTML and its allow-listed
 * assets). The data always comes from /v1 with the user's own token.
 */

export interface Asset {
  body: Buffer;
  type: string;
  /** Content hash: the page links `?v=<hash>`, so a matching request may be cached for good. */
  hash: string;
}

export const JS = 'text/javascript; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';

export const hashOf = (body: Buffer | string) => createHash('sha256').update(body).digest('hex').slice(0, 16);
export const asset = (body: Buffer, type: string): Asset => ({ body, type, hash: hashOf(body) });

/** The package's src/http/pages (holding `marker`), found from src/http/routes (tsx) or dist/src/http/routes (compiled). */
export function findPagesDir(marker: string, from = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    dir = path.dirname(dir);
    const candidate = path.join(dir, 'src', 'http', 'pages');
    if (existsSync(path.join(candidate, marker))) return candidate;
  }
  return null;
}

export const PAGE_CSP = [
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

/** Replaces each `{{asset:name}}` of a page's HTML with its hashed URL; an unknown name stops the start. */
export function linkAssets(html: string, assets: Map<string, Asset>, assetsUrl: string, page: string): string {
  return html.replace(/\{\{asset:([a-z0-9.-]+)\}\}/g, (_m, name: string) => {
    const found = assets.get(name);
    if (!found) throw new Error(`${page} links an unknown asset ${name}`);
    return `${assetsUrl}/${name}?v=${found.hash}`;
  });
}

const assetParams = z.strictObject({ file: singleLine({ max: 100 }) });
const assetQuery = z.strictObject({ v: singleLine({ max: 64 }).optional() });

export interface PageOptions {
  /** The page's own path, e.g. `/reports`. */
  url: string;
  /** Where its assets are served, e.g. `/reports/assets` (`/:file` is added). */
  assetsUrl: string;
  /** Null when the build has no pages: both routes answer 404 `page.not_installed`. */
  html: string | null;
  assets: Map<string, Asset>;
  /** Said in the 404 when the page is not installed. */
  notInstalled: string;
}

/** The page's HTML (never cached) and its assets: only names in the map, never a path. */
export const staticPage: FastifyPluginAsyncZod<PageOptions> = async (app, opts) => {
  const { html, assets } = opts;
  const notInstalled = () => new DomainError(404, 'page.not_installed', opts.notInstalled);

  app.get(opts.url, { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    if (html === null) throw notInstalled();
    return (
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', PAGE_CSP)
        // helmet sends nosniff and no-referrer on every response; these pages are never framed.
        .header('x-frame-options', 'DENY')
        .send(html)
    );
  });

  app.get(
    `${opts.assetsUrl}/:file`,
    { config: { auth: 'public' }, schema: { hide: true, params: assetParams, querystring: assetQuery } },
    async (request, reply) => {
      const found = assets.get(request.params.file);
      if (!found) throw new DomainError(404, 'page.asset_not_found', `No asset ${request.params.file}.`);
      const etag = `"${found.hash}"`;
      reply
        .type(found.type)
        .header('etag', etag)
        .header('cache-control', request.query.v === found.hash ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(found.body);
    },
  );
};
