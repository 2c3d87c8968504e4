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
 * The workbench's Team page (a lead: absences with cover, handover, orphaned caseloads) and My
 * absences (an intervener), in headless Chromium at 1280 and 360 px, as test/workbench.test.ts
 * drives the rest of the workbench.
 */

const DAY = 86_400_000;

let browser: Browser;
let t: TestApp;
let base: string;
let admin: Who;
const contexts: BrowserContext[] = [];
const urls: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
/** Handles and names of the people the cases are about: none may appear in a URL. */
const identities: string[] = [];

async function newContext(width: number, { phone = width < 600 } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 780 : 900 },
    // The page's local time is UTC, so the test can type datetime-local values as UTC.
    timezoneId: 'UTC',
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  // A step that cannot happen fails within the test's time, naming what it waited for.
  context.setDefaultTimeout(10_000);
  context.on('request', (r) => urls.push(r.url()));
  context.on('page', (p) => watch(p));
  return context;
}

function watch(page: Page) {
  page.on('framenavigated', (f) => urls.push(f.url()));
  recordProblems(page, pageErrors, cspViolations);
}

/** Screenshot, axe and fit: nothing scrolls sideways. */
async function check(page: Page, name: string, width: number) {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(OUTPUT_DIR, `workbench-team-${width}-${name}.png`), fullPage: true });
  expect(await seriousViolations(page), `${name} at ${width}px`).toEqual([]);
  const fit = await page.evaluate<{ page: number; viewport: number }>(
    '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
  );
  expect(fit.page, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(fit.viewport);
}

const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const focused = (l: Locator) =>
  l.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);
/** The error line under the field labelled `label` in `form`. */
const errorOf = (form: Locator, label: string) =>
  text(form.locator('.field', { has: form.page().getByLabel(label, { exact: true }) }).locator('.field-error'));
/** A datetime-local value (the page's time zone is UTC). */
const localInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);

type Absence = { id: string; coverId: string | null; reason: string | null };
type CaseRow = { id: string; assigneeId: string | null };
const api = <T>(who: Who, url: string) => ok<T>(t, who, 'GET', url);

const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('the workbench Team page in headless Chromium', () => {
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.staff('admin', null);
    base = await listenForBrowser(t);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.close();
  });

  for (const width of [1280, 360]) {
    it(`at ${width}px: an absence with cover opens and closes the cover's access, a ranked handover skips a full receiver, an orphaned caseload is handed over, an intervener records their own absence`, async () => {
      // Away and Cover hold at most one case each: Away's own fills them; Gone's two cases go to whoever has room.
      const { programId, lead, away, cover, gone } = await cast(t, {
        lead: 'lead',
        away: { role: 'intervener', maxCaseload: 1 },
        cover: { role: 'intervener', maxCaseload: 1 },
        gone: { role: 'intervener', maxCaseload: 10 },
      });
      const nameOf = async (who: Who) => (await api<{ name: string }>(who, '/v1/me')).name;
      const [awayName, coverName, goneName] = await Promise.all([nameOf(away), nameOf(cover), nameOf(gone)]);
      const person = (handle: string, displayName: string) => {
        identities.push(handle, displayName, encodeURIComponent(displayName));
        return { profile: { platform: 'x', handle: `@${handle}`, displayName, language: 'en' } };
      };
      const wes = `Wandering Wes ${width}`;
      const awayCase = await activeCase(t, lead, programId, away.id, person(`wes_${width}`, wes));
      const fay = await activeCase(t, lead, programId, gone.id, person(`fay_${width}`, `First Fay ${width}`));
      const sid = await activeCase(t, lead, programId, gone.id, person(`sid_${width}`, `Second Sid ${width}`));
      const absencesOf = async (who: Who) => (await api<{ items: Absence[] }>(lead, `/v1/staff/${who.id}/absences`)).items;

      // ---- the lead's Team page --------------------------------------------------------------

      // At 360 px the lead works with the keyboard alone (a desktop context: keys, not taps).
      const leadContext = await newContext(width, { phone: false });
      const lee = await signIn(leadContext, lead, 'Approvals');
      await lee.getByRole('link', { name: 'Team', exact: true }).click();
      await visible(lee.getByRole('heading', { level: 1, name: 'Team' }));
      expect(new URL(lee.url()).hash).toBe('#/team');
      const cardOf = (name: string) => lee.getByRole('article', { name, exact: true });
      const awayCard = cardOf(awayName);
      await poll(() => text(awayCard)).toContain('Holds 1 active case (cap 1).');
      await poll(() => text(cardOf(goneName))).toContain('Holds 2 active cases (cap 10).');
      expect(await lee.getByRole('region', { name: 'Waiting for a handover' }).count()).toBe(0);

      // An absence for Away with Cover: To missing is refused next to the field.
      await awayCard.locator('summary', { hasText: 'Record an absence' }).click();
      const record = lee.getByRole('form', { name: `Record an absence for ${awayName}` });
      await poll(() => record.getByLabel('From', { exact: true }).inputValue()).not.toBe('');
      await record.getByRole('button', { name: 'Record absence' }).click();
      await poll(() => record.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).toBe('true');
      expect(await errorOf(record, 'To')).toBe('Give a date and time.');
      await poll(() => focused(record.getByLabel('To', { exact: true }))).toBe(true);
      expect(await absencesOf(away)).toEqual([]);
      await record.getByLabel('To', { exact: true }).fill(localInput(Date.now() + 3 * DAY));
      await record.getByLabel('Cover', { exact: true }).selectOption(cover.id);
      await record.getByLabel('Reason', { exact: true }).fill('leave');
      await record.getByRole('button', { name: 'Record absence' }).click();
      await poll(() => text(record.getByRole('status'))).toBe(`Absence recorded; ${coverName} covers.`);
      await poll(() => text(awayCard)).toContain(`covered by ${coverName}.`);
      expect(await text(awayCard.locator('.badges'))).toContain('Absent');
      await poll(() => text(cardOf(coverName))).toContain(`Covering ${awayName} until`);
      const recorded = await absencesOf(away);
      expect(recorded).toMatchObject([{ coverId: cover.id, reason: 'leave' }]);
      await check(lee, 'absence', width);

      // The cover sees the absent colleague's case on Today.
      const coverContext = await newContext(width);
      const cov = await signIn(coverContext, cover, 'Today');
      await visible(cov.getByRole('link', { name: wes, exact: true }));

      // The lead ends it: the cover loses the case at once.
      await awayCard.getByRole('button', { name: `End ${awayName}’s absence now` }).click();
      await poll(() => text(awayCard.locator('.team-result'))).toBe(`Absence ended: ${coverName} no longer works ${awayName}’s cases.`);
      await poll(() => text(awayCard)).toContain('None now or planned.');
      // One message at a time: the earlier "recorded" line went.
      expect(await text(record.getByRole('status'))).toBe('');
      expect(await absencesOf(away)).toEqual([]);
      await cov.reload();
      await visible(cov.getByRole('heading', { level: 1, name: 'Today' }));
      await visible(cov.getByText('No active cases.'));
      expect(await cov.getByRole('link', { name: wes, exact: true }).count()).toBe(0);

      // ---- a ranked handover of Gone's two cases: Cover has room for one, Away none --------

      const goneCard = cardOf(goneName);
      const handover = lee.getByRole('form', { name: `Hand over ${goneName}’s cases` });
      if (width < 600) {
        // Keys only: open the disclosure, choose with the arrow keys, type, submit.
        const summary = goneCard.locator('summary', { hasText: 'Hand over cases' });
        await summary.focus();
        await lee.keyboard.press('Enter');
        await visible(handover);
        await lee.keyboard.press('Tab');
        expect(await focused(handover.getByLabel('Intervener', { exact: true }))).toBe(true);
        await lee.keyboard.press('ArrowDown');
        expect(await handover.getByLabel('Intervener', { exact: true }).inputValue()).toBe('ranked');
        await lee.keyboard.press('Tab');
        await lee.keyboard.type('Left the program');
        await lee.keyboard.press('Tab');
        await lee.keyboard.type('Replies in the evenings.');
        await lee.keyboard.press('Tab');
        expect(await focused(handover.getByRole('button', { name: 'Hand over' }))).toBe(true);
        await lee.keyboard.press('Enter');
      } else {
        await goneCard.locator('summary', { hasText: 'Hand over cases' }).click();
        // Nothing chosen: both refusals next to their fields, nothing moved.
        await handover.getByRole('button', { name: 'Hand over' }).click();
        await poll(() => errorOf(handover, 'Intervener')).toBe('Choose who takes the cases, or “Best ranked for each case”.');
        expect(await errorOf(handover, 'Reason')).toBe('This is needed.');
        expect(await handover.getByLabel('Intervener', { exact: true }).getAttribute('aria-invalid')).toBe('true');
        await handover.getByLabel('Intervener', { exact: true }).selectOption({ label: 'Best ranked for each case' });
        await handover.getByLabel('Reason', { exact: true }).fill('Left the program');
        await handover.getByLabel('Note', { exact: true }).fill('Replies in the evenings.');
        await handover.getByRole('button', { name: 'Hand over' }).click();
      }
      const result = goneCard.locator('.team-result');
      await poll(() => text(result.locator('.result-head'))).toBe('1 case moved; 1 skipped: at capacity');
      // One message at a time: Away's "ended" line went.
      expect(await text(awayCard.locator('.team-result'))).toBe('');
      const [fayNow, sidNow] = await Promise.all([api<CaseRow>(lead, `/v1/cases/${fay.id}`), api<CaseRow>(lead, `/v1/cases/${sid.id}`)]);
      const moved = [fayNow, sidNow].find((c) => c.assigneeId === cover.id)!;
      const skipped = [fayNow, sidNow].find((c) => c.assigneeId === gone.id)!;
      expect(moved).toBeDefined();
      expect(skipped).toBeDefined();
      expect(await text(result)).toContain(`Moved to ${coverName} (1).`);
      const skippedLink = result.getByRole('list', { name: 'Skipped cases' }).getByRole('link');
      expect(await skippedLink.count()).toBe(1);
      expect(await skippedLink.getAttribute('href')).toBe(`#/case/${skipped.id}`);
      expect(await text(skippedLink)).toBe(skipped.id === fay.id ? `First Fay ${width}` : `Second Sid ${width}`);
      await poll(() => text(goneCard)).toContain('Holds 1 active case (cap 10).');
      // The form stayed (Gone still holds a case): the focus stays in it.
      expect(await focused(handover.getByRole('button', { name: 'Hand over' }))).toBe(true);
      const notes = await api<{ items: { kind: string; body: string }[] }>(lead, `/v1/cases/${moved.id}/notes`);
      expect(notes.items).toEqual([expect.objectContaining({ kind: 'handover', body: 'Replies in the evenings.' })]);
      await check(lee, 'handover', width);

      // ---- Away is deactivated holding a case: it waits for a handover on the lead's Team page ----

      await ok(t, admin, 'PATCH', `/v1/staff/${away.id}`, { active: false });
      await lee.getByRole('link', { name: /^Notifications/ }).click();
      const orphanedNote = lee.getByRole('link', { name: 'An intervener with active cases was deactivated: hand their cases over' });
      await visible(orphanedNote);
      await orphanedNote.click();
      await visible(lee.getByRole('heading', { level: 1, name: 'Team' }));
      const waiting = lee.getByRole('region', { name: 'Waiting for a handover' });
      const orphanLink = waiting.getByRole('link', { name: wes, exact: true });
      await visible(orphanLink);
      expect(await orphanLink.getAttribute('href')).toBe(`#/case/${awayCase.id}`);
      expect(await text(waiting)).toContain(`${awayName} (deactivated)`);
      expect(await cardOf(awayName).count()).toBe(0);
      const orphanForm = waiting.getByRole('form', { name: `Hand over ${awayName}’s cases` });
      await orphanForm.getByLabel('Intervener', { exact: true }).selectOption(gone.id);
      await orphanForm.getByLabel('Reason', { exact: true }).fill('Deactivated');
      await check(lee, 'orphaned', width);
      await orphanForm.getByRole('button', { name: 'Hand over' }).click();
      await poll(() => text(waiting.locator('.team-result .result-head'))).toBe('1 case moved');
      expect(await text(waiting.locator('.team-result'))).toContain(`Moved to ${goneName} (1).`);
      // The form went with the case: the focus is on the result, read out.
      await poll(() => focused(waiting.locator('.team-result'))).toBe(true);
      expect(await waiting.getByRole('link', { name: wes, exact: true }).count()).toBe(0);
      expect((await api<CaseRow>(lead, `/v1/cases/${awayCase.id}`)).assigneeId).toBe(gone.id);
      expect((await api<{ items: unknown[] }>(lead, '/v1/cases?orphaned=true')).items).toEqual([]);

      // ---- Cover records their own absence, without a cover; a lost answer is retried once ----

      await cov.getByRole('link', { name: 'My absences' }).click();
      await visible(cov.getByRole('heading', { level: 1, name: 'My absences' }));
      expect(new URL(cov.url()).hash).toBe('#/absences');
      const own = cov.getByRole('form', { name: 'Record an absence' });
      expect(await own.getByLabel('Cover').count()).toBe(0);
      await own.getByLabel('To', { exact: true }).fill(localInput(Date.now() + 2 * DAY));
      await own.getByLabel('Reason', { exact: true }).fill('leave');
      const keys: string[] = [];
      let first = true;
      await cov.route('**/v1/staff/*/absences', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        keys.push(route.request().headers()['idempotency-key'] ?? '');
        if (!first) return route.continue();
        first = false;
        await route.fetch();
        await route.abort('connectionreset');
      });
      await own.getByRole('button', { name: 'Record absence' }).click();
      await poll(() => text(own.getByRole('alert'))).toContain('Press “Record absence” again to retry: it will not be recorded twice.');
      await own.getByRole('button', { name: 'Record absence' }).click();
      await poll(() => text(own.getByRole('status'))).toBe('Absence recorded (the first try had reached the server: it is recorded once).');
      await cov.unroute('**/v1/staff/*/absences');
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^wb-[0-9a-f]{32}$/);
      expect(keys[1]).toBe(keys[0]);
      const mine = await absencesOf(cover);
      expect(mine).toMatchObject([{ coverId: null, reason: 'leave' }]);
      await poll(() => text(cov.locator('.team-card'))).toContain('You are absent until');
      await check(cov, 'my-absences', width);
      // The lead sees it on the Team page.
      await lee.reload();
      await poll(() => text(cardOf(coverName))).toContain('no cover: the leads get the notifications.');
      expect(await text(cardOf(coverName).locator('.badges'))).toContain('Absent');
      await cov.getByRole('button', { name: 'End my absence now' }).click();
      await poll(() => text(cov.locator('.team-result'))).toBe('Absence ended.');
      await poll(() => text(cov.locator('.team-card'))).toContain('None now or planned.');
      expect(await absencesOf(cover)).toEqual([]);
    }, 150_000);
  }

  it('put no handle or name in any URL, only its own routes in fragments, and broke no CSP rule', () => {
    expect(urls.length).toBeGreaterThan(20);
    const foreign = urls.filter((u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    for (const u of urls) {
      const lower = decodeURIComponent(u).toLowerCase();
      for (const identity of identities) expect(lower, u).not.toContain(identity.toLowerCase());
      const hash = new URL(u).hash;
      if (hash) expect(hash, u).toMatch(/^#\/(today|team|absences|approvals|notifications|case\/[0-9a-f-]{36})$/);
    }
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
