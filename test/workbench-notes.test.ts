import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import {
  CHROMIUM,
  launchChromium,
  listenForBrowser,
  OUTPUT_DIR,
  poll,
  recordProblems,
  seriousViolations,
  signInAt,
  visible,
} from './helpers/browser.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';

interface Note {
  id: string;
  kind: string;
  body: string | null;
  visibility: string;
  authorId: string;
}

let browser: Browser;
let t: TestApp;
let base: string;
let programId: string;
let lead: Who;
let sam: Who;
const contexts: BrowserContext[] = [];
const urls: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];

async function newContext(width: number): Promise<BrowserContext> {
  const phone = width < 600;
  const context = await browser.newContext({
    viewport: { width, height: phone ? 780 : 900 },
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  context.on('request', (r) => urls.push(r.url()));
  context.on('page', (p) => {
    recordProblems(p, pageErrors, cspViolations);
  });
  return context;
}

async function openCase(page: Page, caseId: string) {
  await page.goto(`${base}/app#/case/${caseId}`);
  await visible(page.getByRole('heading', { level: 1, name: 'Case' }));
  await visible(page.getByRole('region', { name: 'Notes' }));
}

/** Accessibility and fit, from the top of the page (as test/workbench.test.ts checks every page). */
async function check(page: Page, what: string) {
  await page.evaluate('window.scrollTo(0, 0)');
  expect(await seriousViolations(page), what).toEqual([]);
  const fit = await page.evaluate<{ page: number; viewport: number }>(
    '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
  );
  expect(fit.page, `${what} scrolls sideways`).toBeLessThanOrEqual(fit.viewport);
}

const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const focused = (l: Locator) =>
  l.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);
const notesOf = async (who: Who, caseId: string) => (await ok<{ items: Note[] }>(t, who, 'GET', `/v1/cases/${caseId}/notes`)).items;

const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('case notes in the workbench, in headless Chromium', () => {
  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }));
    base = await listenForBrowser(t);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.close();
  });

  it('a lead and the intervener each add a note; the intervener never sees the lead’s `leads` note', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    const leadsOnly = 'Sam seemed drained after this one; raise it at supervision';
    const forTheCase = 'They open up when asked about their brother.\nKeep it low-key.';
    const samName = (await ok<{ name: string }>(t, sam, 'GET', '/v1/me')).name;

    // ---- the lead: a note for leads only, then one for whoever holds the case --------------
    const lee = await signIn(await newContext(1280), lead, 'Approvals');
    await openCase(lee, c.id);
    const leadNotes = lee.getByRole('region', { name: 'Notes' });
    await poll(() => text(leadNotes)).toContain('No note on this case yet.');
    // The form opens in place, the keyboard in its first field; Cancel closes it and goes back.
    const opener = leadNotes.getByRole('button', { name: 'Write a note' });
    expect(await opener.getAttribute('aria-expanded')).toBe('false');
    await opener.click();
    await poll(() => focused(leadNotes.getByLabel('Kind'))).toBe(true);
    expect(await opener.isHidden()).toBe(true);
    await leadNotes.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => focused(opener)).toBe(true);
    expect(await leadNotes.getByLabel('Note', { exact: true }).count()).toBe(0);

    await opener.click();
    await leadNotes.getByLabel('Kind').selectOption('supervision');
    await leadNotes.getByLabel('Note', { exact: true }).fill(leadsOnly);
    await leadNotes.getByLabel('Visibility').selectOption('leads');
    await check(lee, 'the lead’s case page with the note form open');
    await leadNotes.getByRole('button', { name: 'Add note' }).click();
    await poll(() => text(leadNotes.getByRole('status'))).toBe('Note added, for leads only.');
    const leadItems = leadNotes.getByRole('listitem');
    await poll(() => leadItems.count()).toBe(1);
    await poll(() => text(leadItems.first())).toContain('Supervision note leads only · by you');
    expect(await text(leadItems.first())).toContain(leadsOnly);

    await leadNotes.getByRole('button', { name: 'Write a note' }).click();
    await leadNotes.getByLabel('Kind').selectOption('handover');
    await leadNotes.getByLabel('Note', { exact: true }).fill(forTheCase);
    await leadNotes.getByRole('button', { name: 'Add note' }).click();
    await poll(() => text(leadNotes.getByRole('status'))).toBe('Note added.');
    await poll(() => leadItems.count()).toBe(2);
    // Newest first; the line break kept as a break, not as markup.
    expect(await text(leadItems.first())).toContain('Handover note · by you');
    expect(await leadItems.first().locator('br').count()).toBe(1);
    expect(await text(leadItems.nth(1))).toContain('leads only');
    expect((await notesOf(lead, c.id)).map((n) => [n.kind, n.visibility, n.authorId])).toEqual([
      ['handover', 'case', lead.id],
      ['supervision', 'leads', lead.id],
    ]);

    // ---- the intervener, on a phone: the lead's case note, never the `leads` one ------------
    const me = await signIn(await newContext(360), sam, 'Today');
    await openCase(me, c.id);
    const samNotes = me.getByRole('region', { name: 'Notes' });
    const samItems = samNotes.getByRole('listitem');
    await poll(() => samItems.count()).toBe(1);
    expect(await text(samItems.first())).toContain('Handover note · by a colleague');
    expect(await text(samItems.first())).toContain('They open up when asked about their brother.');
    expect(await me.content()).not.toContain('drained');
    expect(await me.getByText('leads only').count()).toBe(0);

    // An intervener's notes are for the case: no Visibility to choose.
    await samNotes.getByRole('button', { name: 'Write a note' }).click();
    expect(await samNotes.getByLabel('Visibility').count()).toBe(0);
    // An empty note is refused next to the field.
    await samNotes.getByRole('button', { name: 'Add note' }).click();
    await poll(() => samNotes.getByLabel('Note', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await poll(() => text(samNotes.locator('.field', { has: me.getByLabel('Note', { exact: true }) }).locator('.field-error'))).toBe(
      'This is needed.',
    );
    // What the server refuses is shown next to the field too (here a control character a paste brought in).
    await samNotes.getByLabel('Note', { exact: true }).fill('pasted\u0007text');
    await samNotes.getByRole('button', { name: 'Add note' }).click();
    await poll(() => text(samNotes.locator('.field', { has: me.getByLabel('Note', { exact: true }) }).locator('.field-error'))).toMatch(
      /^may not contain U\+0007/,
    );
    expect(await notesOf(sam, c.id)).toHaveLength(1);
    await samNotes.getByLabel('Note', { exact: true }).fill('Agreed to talk again on Friday.');
    await check(me, 'the intervener’s case page at 360px with the note form open');
    await samNotes.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-notes-form-360.png') });
    await samNotes.getByRole('button', { name: 'Add note' }).click();
    await poll(() => text(samNotes.getByRole('status'))).toBe('Note added.');
    await poll(() => samItems.count()).toBe(2);
    expect(await text(samItems.first())).toContain('General note · by you');
    expect(await me.content()).not.toContain('drained');
    await check(me, 'the intervener’s case page at 360px with two notes');
    await me.evaluate('window.scrollTo(0, 0)');
    await me.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-notes-intervener.png'), fullPage: true });

    const stored = await notesOf(lead, c.id);
    expect(stored[0]).toMatchObject({ kind: 'general', visibility: 'case', authorId: sam.id, body: 'Agreed to talk again on Friday.' });
    expect((await notesOf(sam, c.id)).map((n) => n.visibility)).toEqual(['case', 'case']);

    // ---- the lead again: all three, the intervener named ------------------------------------
    await lee.reload();
    await visible(lee.getByRole('heading', { level: 1, name: 'Case' }));
    await poll(() => leadItems.count()).toBe(3);
    expect(await text(leadItems.first())).toContain(`General note · by ${samName}`);
    expect(await text(leadItems.nth(2))).toContain('Supervision note leads only · by you');
    await check(lee, 'the lead’s case page with three notes');
    await lee.evaluate('window.scrollTo(0, 0)');
    await lee.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-notes.png'), fullPage: true });
    await leadNotes.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-notes-section.png') });
  }, 90_000);

  it('an erased case shows its notes without their text, and no form', async () => {
    const c = await activeCase(t, lead, programId, sam.id);
    await ok(t, sam, 'POST', `/v1/cases/${c.id}/notes`, { kind: 'general', body: 'Before the erasure', visibility: 'case' });
    await ok(t, lead, 'POST', `/v1/cases/${c.id}/erase`, { reason: 'subject asked' });
    const lee = await signIn(await newContext(1280), lead, 'Approvals');
    await openCase(lee, c.id);
    const notes = lee.getByRole('region', { name: 'Notes' });
    await poll(() => text(notes)).toContain('Text erased with the case.');
    expect(await text(notes)).not.toContain('Before the erasure');
    expect(await notes.getByRole('button', { name: 'Write a note' }).count()).toBe(0);
    await check(lee, 'an erased case’s notes');
  }, 60_000);

  it('made no request off its origin, put nothing but case ids in its routes, and broke no CSP rule', () => {
    expect(urls.length).toBeGreaterThan(10);
    expect(urls.filter((u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'))).toEqual([]);
    for (const u of urls) {
      const hash = new URL(u).hash;
      if (hash) expect(hash, u).toMatch(/^#\/(today|triage|approvals|cases|safeguarding|notifications|case\/[0-9a-f-]{36})$/);
      expect(decodeURIComponent(u)).not.toMatch(/drained|brother|Friday/);
    }
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
