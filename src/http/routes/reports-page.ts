import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../deps.js';
import { type Asset, asset, CSS, findPagesDir, JS, linkAssets, staticPage } from './static-page.js';

// chart.js exports only its entry points, so find its dist/ from the CommonJS entry.
const chartDist = () => path.dirname(createRequire(import.meta.url).resolve('chart.js'));

/** Only these names are ever served: the URL picks a key, never a path. */
function loadAssets(pagesDir: string): Map<string, Asset> {
  const files: [name: string, file: string, type: string][] = [
    ['reports.js', path.join(pagesDir, 'reports.js'), JS],
    ['reports.css', path.join(pagesDir, 'reports.css'), CSS],
    ['chart.umd.js', path.join(chartDist(), 'chart.umd.js'), JS],
  ];
  return new Map(files.map(([name, file, type]) => [name, asset(readFileSync(file), type)]));
}

/** The program lead's report page: static HTML, JS and CSS; the data comes from /v1/reports with the lead's token. */
export const reportsPage: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const pagesDir = findPagesDir('reports.html');
  let html: string | null = null;
  let assets = new Map<string, Asset>();
  if (pagesDir) {
    assets = loadAssets(pagesDir);
    html = linkAssets(readFileSync(path.join(pagesDir, 'reports.html'), 'utf8'), assets, '/reports/assets', 'reports.html');
  } else {
    // A build without src/http/pages (e.g. an image that copies only dist/) keeps the API up.
    deps.logger.warn('src/http/pages not found: GET /reports answers 404');
  }
  await app.register(staticPage, {
    url: '/reports',
    assetsUrl: '/reports/assets',
    html,
    assets,
    notInstalled: 'The report page is not installed in this build.',
  });
};
