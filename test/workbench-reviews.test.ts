import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgramSettings } from '../src/domain/programs/settings.js';
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
import { activeCase, call, ok } from './helpers/story.js';

/**
 * The workbench's Reviews page in headless Chromium at 1280 and 360 px: a peer who never held a
 * case reviews its outcome blind (anonymous facts only), one review confirms it, two that
 * disagree dispute it, and a lead adjudicates it on the page (a lead who held it is refused).
 */

let browser: Browser;
let t: TestApp;
let base: string;
const contexts: BrowserContext[] = [];
const urls: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
/** Handles and names of the people the cases are about: none may appear in a URL or on the Reviews page. */
const identities: string[] = [];

async function newContext(width: number, { phone = width < 600 } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 780 : 900 },
    timezoneId: 'UTC',
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  context.on('request', (r) => urls.push(r.url()));
  context.on('page', (p) => watch(p));
  return context;
}

function watch(page: Page) {
  page.on('framenavigated', (f) => urls.push(f.url()));
  recordProblems(page, pageErrors, cspViolations);
}

async function openReviews(page: Page) {
  await page.getByRole('link', { name: 'Reviews', exact: true }).click();
  await visible(page.getByRole('heading', { level: 1, name: 'Reviews' }));
  expect(new URL(page.url()).hash).toBe('#/reviews');
}

/** Screenshot, axe, fit (nothing scrolls sideways), and no identity anywhere on the page. */
async function check(page: Page, name: string, width: number) {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(OUTPUT_DIR, `workbench-reviews-${width}-${name}.png`), fullPage: true });
  expect(await seriousViolations(page), `${name} at ${width}px`).toEqual([]);
  const fit = await page.evaluate<{ page: number; viewport: number }>(
    '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
  );
  expect(fit.page, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(fit.viewport);
  const shown = (await text(page.locator('#view'))).toLowerCase();
  for (const identity of identities) expect(shown, `${name} at ${width}px`).not.toContain(identity.toLowerCase());
}

const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
/** Its paragraphs, one after the other with a space between. */
const seenText = async (l: Locator) => (await l.locator('p').allTextContents()).join(' ').replace(/\s+/g, ' ').trim();
const focused = (l: Locator) =>
  l.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);
/** The error line under the field labelled `label` in `form`. */
const errorOf = (form: Locator, label: string) =>
  text(form.locator('.field', { has: form.page().getByLabel(label, { exact: true }) }).locator('.field-error'));
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
const ref = (id: string) => `Case ${id.slice(-6)}`;
const api = <T>(who: Who, url: string) => ok<T>(t, who, 'GET', url);

const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('the workbench Reviews page in headless Chromium', () => {
  beforeAll(async () => {
    t = await createTestApp();
    base = await listenForBrowser(t);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.close();
  });

  for (const width of [1280, 360]) {
    it(`at ${width}px: a blind peer review confirms one case, two that disagree dispute another, a lead adjudicates it and a lead who held it is refused`, async () => {
      const REVIEW: Partial<ProgramSettings> = { outcomeReview: 'required', secondCoderRate: 0 };
      const { programId, lead, held, sam, kim, ivy } = await cast(
        t,
        { lead: 'lead', held: 'lead', sam: 'intervener', kim: 'intervener', ivy: 'intervener' },
        REVIEW,
      );
      /** A case held by Sam that reached `responded`, closed by Sam as `positive_change`: provisional. */
      const closedBySam = async (who: string, summary: string) => {
        const handle = `${who.toLowerCase()}${width}_${randomUUID().slice(0, 4)}`;
        const displayName = `${who} Person ${width}`;
        identities.push(handle, displayName);
        const c = await activeCase(t, lead, programId, sam.id, {
          flaggedAt: ago(120),
          profile: { platform: 'x', handle: `@${handle}`, displayName, language: 'en' },
        });
        const tp = (direction: string, occurredAt: string, extra: Record<string, unknown> = {}) =>
          ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, { direction, channel: 'paid_message', occurredAt, ...extra });
        await tp('outbound', ago(60), { approaches: ['questioning'], summary: 'Asked what drew them to the group' });
        await tp('inbound', ago(30), { sentiment: 'neutral', summary });
        const closed = await ok<{ outcomeStatus: string }>(t, sam, 'POST', `/v1/cases/${c.id}/close`, { outcome: 'positive_change' });
        expect(closed.outcomeStatus).toBe('provisional');
        return c.id;
      };
      const one = await closedBySam('Alma', 'Said they are less sure of it now');
      // The second case is drawn for two reviews: the rate at its closing decides.
      const got = await call(t, lead, 'GET', `/v1/programs/${programId}`);
      await ok(
        t,
        lead,
        'PATCH',
        `/v1/programs/${programId}`,
        { settings: { secondCoderRate: 1 } },
        { 'if-match': String(got.headers.etag) },
      );
      const two = await closedBySam('Bruno', 'Thanked me and stopped writing');
      const status = async (id: string) => (await api<{ outcomeStatus: string }>(lead, `/v1/cases/${id}`)).outcomeStatus;

      // ---- Kim, a peer who never held either case, reviews both ------------------------------

      const kimPage = await signIn(await newContext(width), kim, 'Today');
      await openReviews(kimPage);
      const kimOne = kimPage.getByRole('article', { name: ref(one), exact: true });
      const kimTwo = kimPage.getByRole('article', { name: ref(two), exact: true });
      await visible(kimOne);
      await visible(kimTwo);
      expect(await seenText(kimOne)).toContain('Said they are less sure of it now');
      expect(await text(kimOne)).toContain('0 of 1 reviews in');
      expect(await text(kimTwo)).toContain('0 of 2 reviews in');
      await check(kimPage, 'pending', width);

      // Nothing chosen: refused next to the fields, nothing written.
      const formOne = kimPage.getByRole('form', { name: `Review ${ref(one)}` });
      await formOne.getByRole('button', { name: 'Submit review' }).click();
      await poll(() => errorOf(formOne, 'Outcome')).toBe('Choose the outcome you judge.');
      expect(await errorOf(formOne, 'Confidence')).toBe('Choose how sure you are.');
      expect(await formOne.getByLabel('Outcome', { exact: true }).getAttribute('aria-invalid')).toBe('true');
      await poll(() => focused(formOne.getByLabel('Outcome', { exact: true }))).toBe(true);
      expect(await status(one)).toBe('provisional');

      await formOne.getByLabel('Outcome', { exact: true }).selectOption('positive_change');
      await formOne.getByRole('group', { name: 'Signals' }).getByLabel('expressed doubt', { exact: true }).check();
      await formOne.getByLabel('Confidence', { exact: true }).selectOption('medium');
      await formOne.getByLabel('Note', { exact: true }).fill('Doubt in their own words.');
      const keys: string[] = [];
      kimPage.on('request', (r) => {
        if (r.method() === 'POST' && r.url().includes('/outcome-reviews')) keys.push(r.headers()['idempotency-key'] ?? '');
      });
      await formOne.getByRole('button', { name: 'Submit review' }).click();
      await poll(() => seenText(kimOne.getByRole('status'))).toBe('Review submitted. The reviews agree: the case is now confirmed.');
      await poll(() => focused(kimOne.getByRole('status'))).toBe(true);
      expect(await text(kimOne.locator('.badges'))).toContain('confirmed');
      expect(await seenText(kimOne.getByRole('list', { name: 'Reviews' }))).toBe(
        'You: positive change · medium confidence Signals: expressed doubt Doubt in their own words.',
      );
      expect(await formOne.count()).toBe(0);
      expect(await status(one)).toBe('confirmed');
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/^wb-[0-9a-f]{32}$/);

      const formTwo = kimPage.getByRole('form', { name: `Review ${ref(two)}` });
      await formTwo.getByLabel('Outcome', { exact: true }).selectOption('positive_change');
      await formTwo.getByRole('group', { name: 'Signals' }).getByLabel('accepted support', { exact: true }).check();
      await formTwo.getByLabel('Confidence', { exact: true }).selectOption('high');
      await formTwo.getByLabel('Note', { exact: true }).fill('Kim thinks the thanks were sincere.');
      await formTwo.getByRole('button', { name: 'Submit review' }).click();
      await poll(() => seenText(kimTwo.getByRole('status'))).toBe(
        'Review submitted. The case stays provisional until its other review is in. No other review is in yet.',
      );
      expect(await text(kimTwo.locator('.badges'))).toContain('1 of 2 reviews in');
      expect(await status(two)).toBe('provisional');
      await check(kimPage, 'submitted', width);

      // ---- Ivy reviews the second case, blind to Kim's review, then sees it ------------------

      // At 360 px Ivy works with the keyboard alone (a desktop context: keys, not taps).
      const ivyPage = await signIn(await newContext(width, { phone: false }), ivy, 'Today');
      await openReviews(ivyPage);
      const ivyTwo = ivyPage.getByRole('article', { name: ref(two), exact: true });
      await visible(ivyTwo);
      // The confirmed case waits for nobody.
      expect(await ivyPage.getByRole('article', { name: ref(one), exact: true }).count()).toBe(0);
      expect(await text(ivyTwo)).toContain('1 of 2 reviews in');
      expect(await text(ivyTwo)).toContain('Other reviews stay hidden until yours is in.');
      expect(await text(ivyTwo)).not.toContain('Kim thinks');
      expect(await ivyTwo.getByRole('list', { name: 'Reviews' }).count()).toBe(0);
      await check(ivyPage, 'blind', width);

      const ivyForm = ivyPage.getByRole('form', { name: `Review ${ref(two)}` });
      if (width < 600) {
        await ivyForm.getByLabel('Outcome', { exact: true }).focus();
        await ivyPage.keyboard.press('ArrowDown');
        await ivyPage.keyboard.press('ArrowDown');
        expect(await ivyForm.getByLabel('Outcome', { exact: true }).inputValue()).toBe('disengaged');
        await ivyPage.keyboard.press('Tab');
        await ivyPage.keyboard.press('ArrowDown');
        expect(await ivyForm.getByLabel('Confidence', { exact: true }).inputValue()).toBe('low');
        // Into the signals: the last one, "none".
        for (let i = 0; i < 6; i++) await ivyPage.keyboard.press('Tab');
        expect(await focused(ivyForm.getByLabel('none', { exact: true }))).toBe(true);
        await ivyPage.keyboard.press('Space');
        await ivyPage.keyboard.press('Tab');
        await ivyPage.keyboard.type('Ivy reads it as a polite goodbye.');
        await ivyPage.keyboard.press('Tab');
        expect(await focused(ivyForm.getByRole('button', { name: 'Submit review' }))).toBe(true);
        await ivyPage.keyboard.press('Enter');
      } else {
        await ivyForm.getByLabel('Outcome', { exact: true }).selectOption('disengaged');
        await ivyForm.getByLabel('Confidence', { exact: true }).selectOption('low');
        await ivyForm.getByRole('group', { name: 'Signals' }).getByLabel('none', { exact: true }).check();
        await ivyForm.getByLabel('Note', { exact: true }).fill('Ivy reads it as a polite goodbye.');
        await ivyForm.getByRole('button', { name: 'Submit review' }).click();
      }
      await poll(() => seenText(ivyTwo.getByRole('status'))).toBe(
        'Review submitted. The reviews disagree: the case is now disputed, and a lead will adjudicate it.',
      );
      const seen = await seenText(ivyTwo.getByRole('list', { name: 'Reviews' }));
      expect(seen).toContain('Another reviewer: positive change · high confidence');
      expect(seen).toContain('Kim thinks the thanks were sincere.');
      expect(seen).toContain('You: disengaged · low confidence Signals: none');
      expect(await status(two)).toBe('disputed');
      await check(ivyPage, 'disputed', width);

      // ---- a lead who once held the case may not adjudicate it -------------------------------

      await t.db.pool.query(
        `insert into assignments (id, case_id, staff_id, assigned_by, started_at, ended_at) values ($1, $2, $3, $3, $4, $5)`,
        [randomUUID(), two, held.id, ago(200), ago(190)],
      );
      const heldPage = await signIn(await newContext(width), held, 'Approvals');
      await openReviews(heldPage);
      const heldForm = heldPage.getByRole('form', { name: `Adjudicate ${ref(two)}` });
      await heldForm.getByLabel('Outcome', { exact: true }).selectOption('disengaged');
      await heldForm.getByLabel('Note', { exact: true }).fill('Settling it.');
      await heldForm.getByRole('button', { name: 'Adjudicate' }).click();
      await poll(() => text(heldForm.getByRole('alert'))).toBe(
        'You have held this case: its outcome must be reviewed by someone who has not.',
      );
      expect(await status(two)).toBe('disputed');

      // ---- the lead adjudicates it ------------------------------------------------------------

      const leadPage = await signIn(await newContext(width), lead, 'Approvals');
      await openReviews(leadPage);
      const disputed = leadPage.getByRole('region', { name: 'Disputed' });
      const card = disputed.getByRole('article', { name: ref(two), exact: true });
      await visible(card);
      expect(await disputed.getByRole('article').count()).toBe(1);
      expect(await text(card.locator('.facts'))).toContain('PlatformX');
      const both = await seenText(card.getByRole('list', { name: 'Reviews' }));
      expect(both).toContain('positive change · high confidence');
      expect(both).toContain('disengaged · low confidence');
      expect(await card.getByRole('link', { name: `Open the case ${ref(two)}` }).getAttribute('href')).toBe(`#/case/${two}`);
      const adjudicate = leadPage.getByRole('form', { name: `Adjudicate ${ref(two)}` });
      await adjudicate.getByRole('button', { name: 'Adjudicate' }).click();
      await poll(() => errorOf(adjudicate, 'Outcome')).toBe('Choose the outcome that stands.');
      expect(await errorOf(adjudicate, 'Note')).toBe('Say why: the note is kept with the decision.');
      await adjudicate.getByLabel('Outcome', { exact: true }).selectOption('disengaged');
      await adjudicate.getByRole('group', { name: 'Signals' }).getByLabel('none', { exact: true }).check();
      await adjudicate.getByLabel('Note', { exact: true }).fill('The last message reads as a goodbye.');
      await check(leadPage, 'adjudicate', width);
      await adjudicate.getByRole('button', { name: 'Adjudicate' }).click();
      await poll(() => seenText(card.getByRole('status'))).toBe(
        'Adjudicated: disengaged. The case is now adjudicated; reports count this outcome.',
      );
      await poll(() => focused(card.getByRole('status'))).toBe(true);
      expect(await status(two)).toBe('adjudicated');
      const reviews = await api<{ items: { kind: string }[] }>(lead, `/v1/cases/${two}/outcome-reviews`);
      expect(reviews.items.map((r) => r.kind)).toEqual(['review', 'review', 'adjudication']);
      await check(leadPage, 'adjudicated', width);
      await leadPage.reload();
      await visible(leadPage.getByRole('heading', { level: 1, name: 'Reviews' }));
      await visible(leadPage.getByRole('region', { name: 'Disputed' }).getByText('No disputed case.'));
    }, 120_000);
  }

  it('put no handle or name in any URL, only its own routes in fragments, and broke no CSP rule', () => {
    expect(urls.length).toBeGreaterThan(20);
    const foreign = urls.filter((u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    for (const u of urls) {
      const lower = decodeURIComponent(u).toLowerCase();
      for (const identity of identities) expect(lower, u).not.toContain(identity.toLowerCase());
      const hash = new URL(u).hash;
      if (hash) expect(hash, u).toMatch(/^#\/(today|reviews|approvals|case\/[0-9a-f-]{36})$/);
    }
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
