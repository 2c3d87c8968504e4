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

/**
 * Intervener welfare in the workbench, in headless Chromium at 1280 and 360 px: My week (exposure
 * against the cap, time logging, debriefs, supervision, topic opt-outs), the minutes and
 * "distressing" of a logged message, the leads' debrief queue and a supervision session recorded
 * on the Team page. Every figure the page shows is compared with what the API answers.
 */

interface Welfare {
  weekStart: string;
  exposureMinutes: number;
  capMinutes: number;
  overCap: boolean;
  lastSupervisionAt: string | null;
  supervisionDueAt: string;
  supervisionMinutesThisPeriod: number;
  supervisionMinMinutes: number;
  debriefsPending: number;
  avoid: string[];
}
interface Debrief {
  id: string;
  staffId: string;
  caseId: string | null;
  reason: string;
  status: string;
  doneBy: string | null;
  note: string | null;
}

let browser: Browser;
let t: TestApp;
let base: string;
const contexts: BrowserContext[] = [];
const urls: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
/** Handles and names of the people the cases are about: none may appear in a URL. */
const identities: string[] = [];

async function newContext(width: number, { phone = width < 600 } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 780 : 900 },
    // The page's local time is UTC, so the test can read and type times as UTC.
    timezoneId: 'UTC',
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  context.on('request', (r) => urls.push(r.url()));
  context.on('page', (p) => {
    p.on('framenavigated', (f) => urls.push(f.url()));
    recordProblems(p, pageErrors, cspViolations);
  });
  return context;
}

/** Screenshot, axe and fit: nothing scrolls sideways. */
async function check(page: Page, name: string, width: number) {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(OUTPUT_DIR, `workbench-welfare-${width}-${name}.png`), fullPage: true });
  expect(await seriousViolations(page), `${name} at ${width}px`).toEqual([]);
  const fit = await page.evaluate<{ page: number; viewport: number }>(
    '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
  );
  expect(fit.page, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(fit.viewport);
}

const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
/** The error line under the field labelled `label` in `form`. */
const errorOf = (form: Locator, label: string) =>
  text(
    form
      .locator('.field', { has: form.page().getByLabel(label, { exact: true }) })
      .locator('.field-error')
      .first(),
  );
/** Minutes as a person reads them, written out by hand here (not with the page's own function). */
const hm = (m: number) => (m < 60 ? `${m} min` : m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`);
const api = <T>(who: Who, url: string) => ok<T>(t, who, 'GET', url);
const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('intervener welfare in the workbench, in headless Chromium', () => {
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
    // On the phone the cap is one hour (so the week goes over it) and debriefs are due within a second (so one is overdue).
    const phone = width < 600;
    it(`at ${width}px: time logged and a distressing message make My week's exposure, a topic opt-out is saved, the lead holds the debrief and records supervision`, async () => {
      const { programId, lead, sam } = await cast(
        t,
        { lead: 'lead', sam: 'intervener' },
        { weeklyExposureCap: phone ? 'PT1H' : 'PT8H', debriefWithin: phone ? 'PT1S' : 'PT48H', supervisionMinMinutes: 90 },
      );
      const samName = (await api<{ name: string }>(sam, '/v1/me')).name;
      const handle = `welfare_${width}`;
      const displayName = `Drifting Dana ${width}`;
      identities.push(handle, displayName, encodeURIComponent(displayName));
      const c = await activeCase(t, lead, programId, sam.id, {
        profile: { platform: 'x', handle: `@${handle}`, displayName, language: 'en' },
      });
      const welfare = () => api<Welfare>(sam, '/v1/me/welfare');
      const cap = phone ? 60 : 480;

      // ---- the intervener: My week, empty ------------------------------------------------------
      const samContext = await newContext(width);
      const me = await signIn(samContext, sam, 'Today');
      await me.getByRole('link', { name: 'My week', exact: true }).click();
      await visible(me.getByRole('heading', { level: 1, name: 'My week' }));
      expect(new URL(me.url()).hash).toBe('#/week');
      const exposure = me.getByRole('region', { name: 'Time with hostile content' });
      await poll(() => text(exposure.locator('.exposure-figure'))).toBe(`0 min of ${hm(cap)} this week`);
      expect(await text(me.getByRole('region', { name: 'Debriefs' }))).toContain('No debrief is waiting.');
      expect(await text(me.getByRole('region', { name: 'Supervision' }))).toContain('0 of 90 minutes this period');
      expect(await text(me.getByRole('region', { name: 'Supervision' }))).toContain('No session recorded yet.');

      // ---- logging time: refused next to each field first, then 45 minutes of research ----------
      const logForm = me.getByRole('form', { name: 'Log time' });
      await logForm.getByRole('button', { name: 'Log time' }).click();
      await poll(() => logForm.getByLabel('Minutes', { exact: true }).getAttribute('aria-invalid')).toBe('true');
      expect(await errorOf(logForm, 'Minutes')).toBe('This is needed.');
      expect(await text(logForm.getByRole('group', { name: 'What was it' }).locator('.field-error'))).toBe('Choose what it was.');
      await logForm.getByLabel('Minutes', { exact: true }).fill('two hours');
      await logForm.getByRole('button', { name: 'Log time' }).click();
      await poll(() => errorOf(logForm, 'Minutes')).toBe('Give the minutes as a number, e.g. 20, 1 h 15 or 1:15.');
      expect((await welfare()).exposureMinutes).toBe(0);

      // The answer to the first try is lost: the retry sends the same Idempotency-Key and logs once.
      const keys: string[] = [];
      let first = true;
      await me.route('**/v1/me/time', async (route) => {
        keys.push(route.request().headers()['idempotency-key'] ?? '');
        if (!first) return route.continue();
        first = false;
        await route.fetch();
        await route.abort('connectionreset');
      });
      // Written as a phone user might ("0:45"), the activity chosen by tapping its segment.
      await logForm.getByLabel('Minutes', { exact: true }).fill('0:45');
      await logForm.getByRole('radio', { name: /^Research/ }).check();
      await logForm.getByRole('button', { name: 'Log time' }).click();
      await poll(() => text(logForm.getByRole('alert'))).toContain('Press “Log time” again to retry: it will not be recorded twice.');
      await logForm.getByRole('button', { name: 'Log time' }).click();
      await poll(() => text(logForm.getByRole('status'))).toBe(
        'Logged once (the first try had reached the server): 45 min of research. This week so far: 45 min.',
      );
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^wb-[0-9a-f]{32}$/);
      expect(keys[1]).toBe(keys[0]);
      await me.unroute('**/v1/me/time');
      expect((await welfare()).exposureMinutes).toBe(45);
      await poll(() => text(exposure.locator('.exposure-figure'))).toBe(`45 min of ${hm(cap)} this week`);
      // The form is ready for the next entry.
      expect(await logForm.getByLabel('Minutes', { exact: true }).inputValue()).toBe('');
      expect(await logForm.getByRole('radio', { name: /^Research/ }).isChecked()).toBe(false);

      // ---- a distressing message with 20 minutes spent, from the case page ---------------------
      await me.goto(`${base}/app#/case/${c.id}`);
      const log = me.getByRole('form', { name: 'Log a message' });
      await visible(log);
      await log.getByLabel('Direction').selectOption('outbound');
      await log.getByLabel('Minutes spent', { exact: true }).fill('20 min');
      await log.getByLabel('This was distressing').check();
      expect(await text(log)).toContain('a lead will offer you a short debrief');
      await log.screenshot({ path: path.join(OUTPUT_DIR, `workbench-welfare-${width}-log-message-form.png`) });
      await check(me, 'log-message', width);
      // Minutes that cannot be read are refused next to the field, and nothing is logged.
      await log.getByLabel('Minutes spent', { exact: true }).fill('twenty');
      await log.getByRole('button', { name: 'Log message' }).click();
      await poll(() => errorOf(log, 'Minutes spent')).toBe('Give the minutes as a number, e.g. 20, 1 h 15 or 1:15.');
      expect((await api<{ items: unknown[] }>(sam, `/v1/cases/${c.id}/touchpoints`)).items).toEqual([]);
      await log.getByLabel('Minutes spent', { exact: true }).fill('20 min');
      await log.getByRole('button', { name: 'Log message' }).click();
      await poll(() => text(log.getByRole('status'))).toBe(
        'Message logged. A lead will be in touch to offer you a debrief; take a moment before the next one.',
      );
      const tps = await api<{ items: { minutesSpent: number | null; distressing: boolean | null }[] }>(
        sam,
        `/v1/cases/${c.id}/touchpoints`,
      );
      expect(tps.items).toMatchObject([{ minutesSpent: 20, distressing: true }]);
      expect(await log.getByLabel('This was distressing').isChecked()).toBe(false);
      await poll(() => text(me.locator('.timeline'))).toContain('Time spent: 20 min · Distressing');

      // ---- My week: 45 + 20 = 65 minutes, as the API counts them -----------------------------
      await me.getByRole('link', { name: 'My week', exact: true }).click();
      await visible(me.getByRole('heading', { level: 1, name: 'My week' }));
      const w = await welfare();
      expect(w).toMatchObject({ exposureMinutes: 65, capMinutes: cap, overCap: phone, debriefsPending: 1 });
      const figure = `${hm(w.exposureMinutes)} of ${hm(w.capMinutes)} this week${phone ? ': 5 min over the cap' : ''}`;
      await poll(() => text(exposure.locator('.exposure-figure'))).toBe(figure);
      expect(figure).toContain(phone ? '1 h 5 min of 1 h' : '1 h 5 min of 8 h');
      const care = exposure.locator('.callout-care');
      if (phone) {
        expect(await text(care)).toContain('You have reached this week’s cap.');
        expect(await text(care)).toContain('New cases now need a lead’s OK');
        expect(await text(care)).toContain('Please look after yourself');
      } else {
        expect(await care.count()).toBe(0);
      }
      const debriefs = me.getByRole('region', { name: 'Debriefs' });
      expect(await text(debriefs)).toContain('1 debrief waiting: a lead will get in touch to talk it through.');
      expect(await text(debriefs)).toContain('A debrief after a message marked distressing');

      // ---- topics: opt out of Islamist cases ---------------------------------------------------
      const topics = me.getByRole('form', { name: 'Topics' });
      const islamist = topics.getByLabel('Islamist', { exact: true });
      expect(await islamist.isChecked()).toBe(false);
      await islamist.check();
      await topics.getByRole('button', { name: 'Save topics' }).click();
      await poll(() => text(topics.getByRole('status'))).toBe('Saved: you are offered no new Islamist cases.');
      const staff = await api<{ items: { id: string; avoid: string[] }[] }>(lead, `/v1/staff?programId=${programId}`);
      expect(staff.items.find((s) => s.id === sam.id)?.avoid).toEqual(['islamist']);
      expect((await welfare()).avoid).toEqual(['islamist']);
      await check(me, 'my-week', width);
      // Shown as saved when the page is opened again.
      await me.reload();
      await visible(me.getByRole('heading', { level: 1, name: 'My week' }));
      await poll(() => me.getByRole('form', { name: 'Topics' }).getByLabel('Islamist', { exact: true }).isChecked()).toBe(true);
      expect(await me.getByRole('form', { name: 'Topics' }).getByLabel('Far right', { exact: true }).isChecked()).toBe(false);

      // ---- the lead: the debrief queue ---------------------------------------------------------
      const leadContext = await newContext(width);
      const lee = await signIn(leadContext, lead, 'Approvals');
      // The debrief_due notification is in words, and leads to the queue.
      await lee.getByRole('link', { name: /^Notifications/ }).click();
      const notice = lee.getByRole('link', { name: 'A debrief is owed after a distressing contact' });
      expect(await notice.getAttribute('href')).toBe('#/debriefs');
      await lee.getByRole('link', { name: 'Debriefs', exact: true }).click();
      await visible(lee.getByRole('heading', { level: 1, name: 'Debriefs' }));
      expect(new URL(lee.url()).hash).toBe('#/debriefs');
      const card = lee.getByRole('article', { name: samName, exact: true });
      await visible(card);
      // Overdue is said in words, not only by the card's colour.
      await poll(() => text(card.locator('.badges'))).toBe(phone ? 'Overdue' : 'Waiting');
      expect(await text(card)).toContain(phone ? 'Was due ' : 'Due by ');
      expect(await text(card)).toContain(`Why: after a message marked distressing · Case: ${displayName}`);
      expect(await card.getByRole('link', { name: displayName }).getAttribute('href')).toBe(`#/case/${c.id}`);
      await check(lee, 'debriefs', width);
      await card.getByLabel('Note').fill('Talked it through; a quiet day tomorrow.');
      await card.getByRole('button', { name: `Mark held for ${samName}’s debrief` }).click();
      await poll(() => text(lee.locator('#view').getByRole('status').first())).toBe(`Marked held: ${samName}’s debrief.`);
      await poll(() => card.count()).toBe(0);
      expect(await text(lee.getByRole('region', { name: 'Waiting' }))).toContain('No debrief is waiting.');
      const held = lee.getByRole('region', { name: 'Recently held' });
      expect(await text(held)).toContain(`${samName} after a message marked distressing · held`);
      expect(await text(held)).toContain('Note: Talked it through; a quiet day tomorrow.');
      const done = await api<{ items: Debrief[] }>(lead, '/v1/debriefs?status=done');
      expect(done.items).toMatchObject([
        {
          staffId: sam.id,
          caseId: c.id,
          reason: 'distressing_touchpoint',
          status: 'done',
          doneBy: lead.id,
          note: 'Talked it through; a quiet day tomorrow.',
        },
      ]);
      expect((await api<{ items: Debrief[] }>(lead, '/v1/debriefs?status=pending')).items).toEqual([]);

      // ---- the lead: a supervision session on the Team page -------------------------------------
      await lee.getByRole('link', { name: 'Team', exact: true }).click();
      await visible(lee.getByRole('heading', { level: 1, name: 'Team' }));
      const samCard = lee.getByRole('article', { name: samName, exact: true });
      const supervision = samCard.getByRole('region', { name: 'Supervision' });
      await poll(() => text(supervision)).toContain('No session recorded yet.');
      await supervision.locator('summary', { hasText: 'Record a supervision session' }).click();
      const record = lee.getByRole('form', { name: `Record a supervision session with ${samName}` });
      await poll(() => record.getByLabel('Held at').inputValue()).not.toBe('');
      await record.getByLabel('Minutes', { exact: true }).fill('lots');
      await record.getByRole('button', { name: 'Record session' }).click();
      await poll(() => errorOf(record, 'Minutes')).toBe('Give the minutes as a number, e.g. 20, 1 h 15 or 1:15.');
      await record.getByLabel('Minutes', { exact: true }).fill('1 h');
      await record.getByLabel('Format').selectOption('group');
      await record.getByRole('button', { name: 'Record session' }).click();
      await poll(() => text(record.getByRole('status'))).toBe('Session recorded: 60 min, group.');
      await poll(() => text(supervision)).toContain('· 60 min, group');
      await check(lee, 'team-supervision', width);
      const sessions = await api<{ items: { minutes: number; format: string; recordedBy: string }[] }>(
        lead,
        `/v1/staff/${sam.id}/supervision-sessions`,
      );
      expect(sessions.items).toMatchObject([{ minutes: 60, format: 'group', recordedBy: lead.id }]);

      // ---- the intervener's My week shows the session and no debrief waiting -------------------
      await me.reload();
      await visible(me.getByRole('heading', { level: 1, name: 'My week' }));
      const after = await welfare();
      expect(after).toMatchObject({ supervisionMinutesThisPeriod: 60, supervisionMinMinutes: 90, debriefsPending: 0 });
      expect(after.lastSupervisionAt).not.toBeNull();
      const sup = me.getByRole('region', { name: 'Supervision' });
      await poll(() => text(sup)).toContain(`${after.supervisionMinutesThisPeriod} of ${after.supervisionMinMinutes} minutes this period`);
      expect(await text(sup)).toContain('Last session: ');
      expect(await text(sup.getByRole('list', { name: 'Recent sessions' }))).toContain('· 60 min, group');
      expect(await text(me.getByRole('region', { name: 'Debriefs' }))).toContain('No debrief is waiting.');
      await poll(() => text(exposure.locator('.exposure-figure'))).toBe(figure);
      await check(me, 'my-week-after', width);
      // The intervener's debrief_due notification is in words too, and leads to My week.
      await me.getByRole('link', { name: /^Notifications/ }).click();
      const mine = me.getByRole('link', { name: 'A debrief is owed after a distressing contact' });
      expect(await mine.getAttribute('href')).toBe('#/week');
      await mine.click();
      await visible(me.getByRole('heading', { level: 1, name: 'My week' }));
    }, 150_000);
  }

  it('is only for the people it is about: a lead has no My week, an intervener no debrief queue', async () => {
    const { lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' });
    const me = await signIn(await newContext(1280), sam, 'Today');
    await me.goto(`${base}/app#/debriefs`);
    await visible(me.getByRole('heading', { level: 1, name: 'Not for your role' }));
    expect(await me.getByRole('link', { name: 'Debriefs', exact: true }).count()).toBe(0);
    const lee = await signIn(await newContext(1280), lead, 'Approvals');
    await lee.goto(`${base}/app#/week`);
    await visible(lee.getByRole('heading', { level: 1, name: 'Not for your role' }));
    expect(await lee.getByRole('link', { name: 'My week', exact: true }).count()).toBe(0);
  }, 60_000);

  it('put no handle or name in any URL, only its own routes in fragments, and broke no CSP rule', () => {
    expect(urls.length).toBeGreaterThan(20);
    const foreign = urls.filter((u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    for (const u of urls) {
      const lower = decodeURIComponent(u).toLowerCase();
      for (const identity of identities) expect(lower, u).not.toContain(identity.toLowerCase());
      const hash = new URL(u).hash;
      if (hash) expect(hash, u).toMatch(/^#\/(today|week|team|approvals|debriefs|notifications|case\/[0-9a-f-]{36})$/);
    }
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
