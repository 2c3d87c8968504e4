/**
 * What the Chromium page tests share (workbench and its features): the browser, where screenshots go,
 * signing in by the page's accessible names, the axe check, and a record of what a page logged.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestApp } from './app.js';
import type { Who } from './cast.js';

/** Debian's Chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';
export const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url));

/** Starts the test app on a free local port for a browser to reach, and makes the screenshot folder; returns its base URL. */
export async function listenForBrowser(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('the app is not listening on TCP');
  await mkdir(OUTPUT_DIR, { recursive: true });
  return `http://127.0.0.1:${address.port}`;
}

/** Headless Chromium with nothing of its own reaching the network (no sync, updates or QUIC). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 10_000, interval: 50 });
export const visible = (l: Locator) => l.waitFor({ state: 'visible', timeout: 10_000 });
export const gone = (l: Locator) => l.waitFor({ state: 'hidden', timeout: 10_000 });

/** Page errors (console errors but failed loads) and CSP reports, into the arrays given. */
export function recordProblems(page: Page, pageErrors: string[], cspViolations: string[]): void {
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });
}

/** Opens /app in a new page of `context` and signs `who` in with the token, as a person would. */
export async function signInAt(base: string, context: BrowserContext, who: Pick<Who, 'token'>, landing: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/app`);
  await page.getByLabel('Personal access token').fill(who.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await visible(page.getByRole('heading', { level: 1, name: landing }));
  return page;
}

/** axe-core's WCAG 2.x A/AA rules on the page as it is now: serious and critical violations, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page } as never).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
