import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../deps.js';
import { type Asset, asset, CSS, findPagesDir, JS, linkAssets, staticPage } from './static-page.js';

/** The workbench's files under src/http/pages/app: only these names are ever served. */
export const WORKBENCH_MODULES = [
  'main.js',
  'api.js',
  'dom.js',
  'forms.js',
  'today.js',
  'case.js',
  'triage.js',
  'approvals.js',
  'cases.js',
  'safeguarding.js',
  'notifications.js',
  'notes.js',
  'team.js',
  'reviews.js',
  'assessments.js',
  'welfare.js',
  'requests.js',
  'holds.js',
] as const;
const STYLES = ['app.css'] as const;

/** A static import of a sibling module: `from './x.js'` or `import './x.js'`. */
const SIBLING_IMPORT = /(\bfrom\s*|\bimport\s*)(['"])\.\/([a-z][a-z0-9-]*\.js)\2/g;
/** Any other relative or dynamic import would load a second, unversioned copy of a module. */
const OTHER_IMPORT = /\bimport\s*\(|(\bfrom\s*|\bimport\s*)(['"])\.{1,2}\/[^'"?]*\2/;

/**
 * Each module with its sibling imports rewritten to `./x.js?v=<hash>`, hashed after its
 * dependencies: a module's hash changes whenever anything it imports changes, so every file
 * the page loads may be cached for good and a new release is never mixed with an old one.
 */
export function loadModules(dir: string, names: readonly string[]): Map<string, Asset> {
  const sources = new Map(names.map((n) => [n, readFileSync(path.join(dir, n), 'utf8')]));
  const done = new Map<string, Asset>();
  const visiting = new Set<string>();
  const visit = (name: string, from: string): Asset => {
    const ready = done.get(name);
    if (ready) return ready;
    const source = sources.get(name);
    if (source === undefined) throw new Error(`workbench: ${from} imports ${name}, which is not in the asset list`);
    if (visiting.has(name)) throw new Error(`workbench: import cycle through ${name}`);
    visiting.add(name);
    const body = source.replace(SIBLING_IMPORT, (_m, lead: string, quote: string, dep: string) => {
      return `${lead}${quote}./${dep}?v=${visit(dep, name).hash}${quote}`;
    });
    visiting.delete(name);
    if (OTHER_IMPORT.test(body)) throw new Error(`workbench: ${name} has an import that is not a static sibling import`);
    const built = asset(Buffer.from(body), JS);
    done.set(name, built);
    return built;
  };
  for (const name of names) visit(name, 'the asset list');
  return done;
}

function loadAssets(appDir: string): Map<string, Asset> {
  const assets = loadModules(appDir, WORKBENCH_MODULES);
  for (const name of STYLES) assets.set(name, asset(readFileSync(path.join(appDir, name)), CSS));
  return assets;
}

/**
 * The workbench at /app: a client of the public API for interveners, analysts, leads and dpos. Static
 * HTML, ES modules and CSS; every action is a /v1 call with the user's own token, routed by hash
 * (`#/case/<id>`), so no handle or identity is ever in a URL.
 */
export const workbench: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const pagesDir = findPagesDir(path.join('app', 'index.html'));
  let html: string | null = null;
  let assets = new Map<string, Asset>();
  if (pagesDir) {
    const appDir = path.join(pagesDir, 'app');
    assets = loadAssets(appDir);
    html = linkAssets(readFileSync(path.join(appDir, 'index.html'), 'utf8'), assets, '/app/assets', 'app/index.html');
  } else {
    // A build without src/http/pages (e.g. an image that copies only dist/) keeps the API up.
    deps.logger.warn('src/http/pages/app not found: GET /app answers 404');
  }
  await app.register(staticPage, {
    url: '/app',
    assetsUrl: '/app/assets',
    html,
    assets,
    notInstalled: 'The workbench is not installed in this build.',
  });
};
