import { existsSync, readFileSync } from 'node:fs';
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
import { activeCase, auditCount, ok } from './helpers/story.js';

/**
 * The workbench for data protection, in headless Chromium at 1280 and 360 px: a dpo's Requests
 * (an access request from a profile URL to its export and closing) and Holds, and a lead choosing
 * the outreach account an outbound message was sent from, as test/workbench.test.ts drives the rest.
 */

const DAY = 86_400_000;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

let browser: Browser;
let t: TestApp;
let base: string;
const contexts: BrowserContext[] = [];
const urls: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
/** Handles and names of the people the cases are about: none may appear in a URL. */
const identities: string[] = [];
/** Every API call a dpo's pages made, as `METHOD path`. */
const dpoCalls: string[] = [];

async function newContext(width: number, { phone = width < 600, calls }: { phone?: boolean; calls?: string[] } = {}) {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 780 : 900 },
    // The page's local time is UTC, so the test can type datetime-local values as UTC.
    timezoneId: 'UTC',
    acceptDownloads: true,
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  context.setDefaultTimeout(10_000);
  context.on('request', (r) => {
    urls.push(r.url());
    if (calls && r.url().startsWith(`${base}/v1/`)) calls.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
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
  await page.screenshot({ path: path.join(OUTPUT_DIR, `workbench-dpo-${width}-${name}.png`), fullPage: true });
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
const datetimeOf = (l: Locator) => l.locator('time').first().getAttribute('datetime');
/** A definition's value in the list `dl` by its term. */
const definition = (dl: Locator, term: string) => dl.locator('div', { has: dl.page().getByText(term, { exact: true }) }).locator('dd');

type Dsr = {
  id: string;
  status: string;
  receivedAt: string;
  dueAt: string;
  extendedUntil: string | null;
  extensionReason: string | null;
  matches: { caseId: string; status: string }[];
  resolution: string | null;
  resolutionNote: string | null;
};
type Hold = { id: string; caseId: string; reason: string; active: boolean; releasedBy: string | null };
const api = <T>(who: Who, url: string) => ok<T>(t, who, 'GET', url);

const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('the workbench for data protection in headless Chromium', () => {
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
    it(`at ${width}px: a dpo answers an access request given as a URL (match, deadline, extension, export, closing), places and releases holds; a lead logs a message from an outreach account`, async () => {
      const { programId, lead, sam, dpo } = await cast(
        t,
        { lead: 'lead', sam: 'intervener', dpo: 'dpo' },
        { requireOutreachAccount: true },
      );
      const person = (handle: string, displayName: string) => {
        identities.push(handle, displayName, encodeURIComponent(displayName));
        return { profile: { platform: 'x', handle: `@${handle}`, displayName, language: 'en' } };
      };
      const adaHandle = `ada_${width}`;
      const ada = await activeCase(t, lead, programId, sam.id, person(adaHandle, `Ada Asks ${width}`));
      const bob = await activeCase(t, lead, programId, sam.id, person(`bob_${width}`, `Bob Other ${width}`));
      await ok(t, sam, 'POST', `/v1/cases/${ada.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'direct_message',
        occurredAt: new Date().toISOString(),
        summary: 'Said they feel left out at school',
      });
      const samName = (await api<{ name: string }>(sam, '/v1/me')).name;

      // An erasure request whose month ended 10.5 days ago (no month-end clamping near it): overdue.
      const due = new Date(Date.now() - 10.5 * DAY);
      const received = new Date(due);
      received.setUTCMonth(received.getUTCMonth() - 1);
      identities.push(`carl_${width}`);
      const late = await ok<Dsr>(t, dpo, 'POST', '/v1/dsr', {
        programId,
        type: 'erasure',
        profile: { platform: 'x', handle: `carl_${width}` },
        receivedAt: received.toISOString(),
      });
      expect(late.dueAt).toBe(due.toISOString());

      // ---- the dpo's Requests page ------------------------------------------------------------

      const dpoContext = await newContext(width, { calls: dpoCalls });
      const dee = await signIn(dpoContext, dpo, 'Requests');
      const nav = dee.getByRole('navigation', { name: 'Workbench' });
      expect((await nav.getByRole('link').allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim())).toEqual([
        'Requests',
        'Holds',
        'Notifications',
      ]);
      const lateCard = dee.getByRole('listitem').filter({ hasText: 'Erasure request' });
      await visible(lateCard);
      expect(await text(lateCard)).toContain('Overdue by 10 days');
      expect(await text(lateCard)).toContain('no matching case');
      await dee.getByLabel('Show', { exact: true }).selectOption('closed');
      await visible(dee.getByText('No closed request.'));
      await dee.getByLabel('Show', { exact: true }).selectOption('overdue');
      await visible(lateCard);

      // A new access request, the handle given as a profile URL in another case; Type forgotten at first.
      const form = dee.getByRole('form', { name: 'Record a new request' });
      await form.getByLabel('Platform', { exact: true }).selectOption({ label: 'X' });
      await form.getByLabel('Handle', { exact: true }).fill(`https://x.com/${adaHandle.toUpperCase()}`);
      identities.push(adaHandle.toUpperCase());
      const receivedAt = localInput(Date.now() - 3 * DAY - 6 * 3_600_000);
      await form.getByLabel('Received', { exact: true }).fill(receivedAt);
      await form.getByRole('button', { name: 'Record request' }).click();
      await poll(() => errorOf(form, 'Type')).toBe('Choose one of the options.');
      expect(await form.getByLabel('Type', { exact: true }).getAttribute('aria-invalid')).toBe('true');
      await poll(() => focused(form.getByLabel('Type', { exact: true }))).toBe(true);
      await form.getByLabel('Type', { exact: true }).selectOption('access');
      const keys: string[] = [];
      await dee.route('**/v1/dsr', async (route) => {
        if (route.request().method() === 'POST') keys.push(route.request().headers()['idempotency-key'] ?? '');
        await route.continue();
      });
      await check(dee, 'requests', width);
      await form.getByRole('button', { name: 'Record request' }).click();
      await visible(dee.getByRole('heading', { level: 1, name: 'Access request' }));
      await dee.unroute('**/v1/dsr');
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/^wb-[0-9a-f]{32}$/);
      const hash = new URL(dee.url()).hash;
      expect(hash).toMatch(new RegExp(`^#/requests/${UUID}$`));
      const dsrId = hash.slice('#/requests/'.length);
      const created = await api<Dsr>(dpo, `/v1/dsr/${dsrId}`);
      expect(created).toMatchObject({ status: 'open', receivedAt: `${receivedAt}:00.000Z`, extendedUntil: null });
      expect(created.matches).toEqual([{ caseId: ada.id, status: 'active' }]);
      const month = Date.parse(created.dueAt) - Date.parse(created.receivedAt);
      expect(month).toBeGreaterThanOrEqual(28 * DAY);
      expect(month).toBeLessThanOrEqual(31 * DAY);

      // The match, by id and status only (no link: the case is not the dpo's to open), and the deadline.
      const matches = dee.getByRole('region', { name: 'Matching cases', exact: true });
      await poll(() => text(matches)).toContain(`Case ${ada.id} · active`);
      expect(await matches.getByRole('link').count()).toBe(0);
      const facts = dee.getByRole('region', { name: 'Deadline', exact: true });
      expect(await datetimeOf(definition(facts.locator('dl'), 'Due'))).toBe(created.dueAt);
      expect(await text(definition(facts.locator('dl'), 'Extended until'))).toBe('not extended');
      const daysLeft = (iso: string) => Math.floor((Date.parse(iso) - Date.now()) / DAY);
      expect(await text(facts.locator('.badges'))).toContain(`Due in ${daysLeft(created.dueAt)} days`);

      // Extended once, with a reason: two months on from the due date; the form goes.
      const extend = dee.getByRole('form', { name: 'Extend the deadline' });
      await extend.getByRole('button', { name: 'Extend by two months' }).click();
      await poll(() => errorOf(extend, 'Reason')).toBe('This is needed.');
      await extend.getByLabel('Reason', { exact: true }).fill('Several records to gather and review.');
      await extend.getByRole('button', { name: 'Extend by two months' }).click();
      await poll(() => text(dee.locator('.view > .form-status'))).toBe('Deadline extended by two months.');
      const extended = await api<Dsr>(dpo, `/v1/dsr/${dsrId}`);
      expect(extended.extensionReason).toBe('Several records to gather and review.');
      expect(extended.extendedUntil).not.toBeNull();
      const twoMonths = Date.parse(extended.extendedUntil!) - Date.parse(extended.dueAt);
      expect(twoMonths).toBeGreaterThanOrEqual(59 * DAY);
      expect(twoMonths).toBeLessThanOrEqual(62 * DAY);
      expect(await datetimeOf(definition(facts.locator('dl'), 'Extended until'))).toBe(extended.extendedUntil);
      expect(await text(facts.locator('.badges'))).toContain(`Due in ${daysLeft(extended.extendedUntil!)} days`);
      expect(await text(facts.locator('.badges'))).toContain('Extended once');
      expect(await extend.count()).toBe(0);

      // The matched case is held while the request is worked on.
      await matches.getByRole('button', { name: `Place a hold on case ${ada.id}` }).click();
      await poll(() => text(matches)).toContain('On hold: data-subject request pending');
      const heldNow = (await api<{ items: Hold[] }>(dpo, '/v1/holds?active=true')).items;
      expect(heldNow).toMatchObject([{ caseId: ada.id, reason: 'dsr_pending', active: true }]);

      // The export, viewed: the profile, the message's summary, staff by role only.
      const exportPart = dee.getByRole('region', { name: 'Access export', exact: true });
      await exportPart.getByRole('button', { name: 'View export' }).click();
      await visible(exportPart.getByRole('heading', { name: 'Export of 1 case' }));
      const exported = exportPart.getByRole('region', { name: 'Case 1 of 1', exact: true });
      expect(await text(definition(exported.locator('dl'), 'Handle'))).toBe(adaHandle);
      expect(await text(definition(exported.locator('dl'), 'Display name'))).toBe(`Ada Asks ${width}`);
      expect(await text(exported)).toContain('Said they feel left out at school');
      expect(await text(exported)).toContain('received from them · direct message · by intervener');
      expect(await text(exportPart)).not.toContain(samName);
      await check(dee, 'request', width);
      // …and downloaded, as JSON.
      const [download] = await Promise.all([
        dee.waitForEvent('download'),
        exportPart.getByRole('button', { name: 'Download export (JSON)' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`access-export-${dsrId}.json`);
      const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
        dsrId: string;
        caseCount: number;
        staffShownAs: string;
        cases: { caseId: string; identity: { handle: string } }[];
      };
      expect(file).toMatchObject({ dsrId, caseCount: 1, staffShownAs: 'role' });
      expect(file.cases.map((c) => [c.caseId, c.identity.handle])).toEqual([[ada.id, adaHandle]]);
      // A view and a download: two exports, each audited.
      expect(await auditCount(t, 'dsr.export', dpo.id)).toBe(2);

      // Closed with a resolution and a note.
      const close = dee.getByRole('form', { name: 'Close the request' });
      await close.getByLabel('Resolution', { exact: true }).selectOption('fulfilled');
      await close.getByLabel('Note', { exact: true }).fill('Export sent by post.');
      await close.getByRole('button', { name: 'Close request' }).click();
      await poll(() => text(dee.locator('.view > .form-status'))).toBe('Request closed.');
      expect(await text(facts.locator('.badges'))).toContain('Closed: fulfilled');
      expect(await close.count()).toBe(0);
      expect(await api<Dsr>(dpo, `/v1/dsr/${dsrId}`)).toMatchObject({
        status: 'closed',
        resolution: 'fulfilled',
        resolutionNote: 'Export sent by post.',
      });
      await dee.getByRole('link', { name: 'All requests' }).click();
      await visible(dee.getByRole('heading', { level: 1, name: 'Requests' }));
      await dee.getByLabel('Show', { exact: true }).selectOption('closed');
      await visible(dee.getByRole('listitem').filter({ hasText: 'Access request' }));

      // ---- Holds -----------------------------------------------------------------------------

      await nav.getByRole('link', { name: 'Holds' }).click();
      await visible(dee.getByRole('heading', { level: 1, name: 'Holds' }));
      const active = dee.getByRole('region', { name: 'Active holds', exact: true });
      await poll(() => text(active)).toContain(`Case ${ada.id} · data-subject request pending`);
      const place = dee.getByRole('form', { name: 'Place a hold' });
      // An id no case of the program has is said at the field.
      await place.getByLabel('Case id', { exact: true }).fill('00000000-0000-7000-8000-000000000000');
      await place.getByLabel('Reason', { exact: true }).selectOption('litigation');
      await place.getByRole('button', { name: 'Place hold' }).click();
      await poll(() => errorOf(place, 'Case id')).toBe('No case of your program has this id.');
      await place.getByLabel('Case id', { exact: true }).fill(bob.id);
      await place.getByLabel('Until', { exact: true }).fill(localInput(Date.now() + 30 * DAY));
      const holdKeys: string[] = [];
      await dee.route('**/v1/cases/*/holds', async (route) => {
        holdKeys.push(route.request().headers()['idempotency-key'] ?? '');
        await route.continue();
      });
      await place.getByRole('button', { name: 'Place hold' }).click();
      await poll(() => text(place.getByRole('status'))).toBe(`Hold placed on case ${bob.id}.`);
      await dee.unroute('**/v1/cases/*/holds');
      expect(holdKeys).toHaveLength(1);
      expect(holdKeys[0]).toMatch(/^wb-[0-9a-f]{32}$/);
      await poll(() => text(active)).toContain(`Case ${bob.id} · litigation`);
      await check(dee, 'holds', width);
      await active.getByRole('button', { name: `Release the hold on case ${ada.id}` }).click();
      await poll(() => text(dee.locator('.view > .form-status'))).toBe(`Hold released on case ${ada.id}.`);
      expect(await text(active)).not.toContain(ada.id);
      const left = (await api<{ items: Hold[] }>(dpo, '/v1/holds?active=true')).items;
      expect(left).toMatchObject([{ caseId: bob.id, reason: 'litigation' }]);
      const all = (await api<{ items: Hold[] }>(dpo, '/v1/holds?active=false')).items;
      expect(all.find((x) => x.caseId === ada.id)).toMatchObject({ active: false, releasedBy: dpo.id });

      await nav.getByRole('link', { name: /^Notifications/ }).click();
      await visible(dee.getByRole('heading', { level: 1, name: 'Notifications' }));

      // The dpo never sees a case: the case page is not theirs, and no page of theirs read one.
      await dee.evaluate(`location.hash = '#/case/${ada.id}'`);
      await visible(dee.getByRole('heading', { level: 1, name: 'Not for your role' }));
      const caseReads = dpoCalls.filter((c) => /\/v1\/cases(\/|$)/.test(c) && !/^POST \/v1\/cases\/[^/]+\/holds$/.test(c));
      expect(caseReads).toEqual([]);
      expect(dpoCalls).toContain(`POST /v1/cases/${bob.id}/holds`);

      // ---- a lead logs an outbound message, choosing the outreach account -----------------------

      const account = await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${programId}/outreach-accounts`, {
        platform: 'x',
        label: 'Programme account',
        disclosure: 'organisation',
      });
      const retired = await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${programId}/outreach-accounts`, {
        platform: 'x',
        label: 'Old account',
        disclosure: 'named_person',
      });
      await ok(t, lead, 'POST', `/v1/outreach-accounts/${retired.id}/retire`, {});
      await ok(t, lead, 'POST', `/v1/programs/${programId}/outreach-accounts`, {
        platform: 'facebook',
        label: 'Facebook page',
        disclosure: 'organisation',
      });

      const leadContext = await newContext(width);
      const lee = await signIn(leadContext, lead, 'Approvals');
      await lee.evaluate(`location.hash = '#/case/${ada.id}'`);
      await visible(lee.getByRole('heading', { level: 1, name: 'Case' }));
      const log = lee.getByRole('form', { name: 'Log a message' });
      const sentFrom = log.getByLabel('Sent from', { exact: true });
      // Only the live account on the case's platform is offered.
      expect(await sentFrom.locator('option').allTextContents()).toEqual(['Choose…', 'Programme account (organisation)']);
      await log.getByLabel('Direction', { exact: true }).selectOption('inbound');
      expect(await sentFrom.isVisible()).toBe(false);
      await log.getByLabel('Direction', { exact: true }).selectOption('outbound');
      await log.getByLabel('Summary', { exact: true }).fill('Asked how school is going');
      // The program requires the account: the refusal is said at the field.
      await log.getByRole('button', { name: 'Log message' }).click();
      await poll(() => errorOf(log, 'Sent from')).toBe('The program requires the outreach account an outbound message was sent from.');
      expect(await sentFrom.getAttribute('aria-invalid')).toBe('true');
      await poll(() => focused(sentFrom)).toBe(true);
      await sentFrom.selectOption(account.id);
      await log.getByRole('button', { name: 'Log message' }).click();
      await poll(() => text(log.getByRole('status'))).toBe('Message logged.');
      const tps = (
        await api<{ items: { direction: string; summary: string | null; outreachAccountId: string | null }[] }>(
          lead,
          `/v1/cases/${ada.id}/touchpoints`,
        )
      ).items;
      expect(tps.filter((x) => x.direction === 'outbound')).toMatchObject([
        { summary: 'Asked how school is going', outreachAccountId: account.id },
      ]);
      const messages = lee.getByRole('region', { name: 'Messages', exact: true });
      await poll(() => text(messages)).toContain('Sent from: Programme account');

      // The lead holds the case from its page.
      const holds = lee.getByRole('region', { name: 'Holds', exact: true });
      expect(await text(holds)).toContain('Not on hold.');
      const caseHold = holds.getByRole('form', { name: 'Place a hold' });
      await caseHold.getByLabel('Hold reason', { exact: true }).selectOption('complaint');
      await caseHold.getByRole('button', { name: 'Place hold' }).click();
      await poll(() => text(caseHold.getByRole('status'))).toBe('Hold placed.');
      await poll(() => text(holds)).toContain('complaint');
      expect((await api<{ items: Hold[] }>(lead, '/v1/holds?active=true')).items.map((x) => [x.caseId, x.reason]).sort()).toEqual(
        [
          [ada.id, 'complaint'],
          [bob.id, 'litigation'],
        ].sort(),
      );
      await check(lee, 'case', width);
    }, 150_000);
  }

  it('put no handle or name in any URL, only its own routes in fragments, and broke no CSP rule', () => {
    expect(urls.length).toBeGreaterThan(20);
    const foreign = urls.filter((u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    for (const u of urls) {
      const lower = decodeURIComponent(u).toLowerCase();
      for (const identity of identities) expect(lower, u).not.toContain(identity.toLowerCase());
      const fragment = new URL(u).hash;
      if (fragment) expect(fragment, u).toMatch(new RegExp(`^#/(requests|holds|notifications|approvals|requests/${UUID}|case/${UUID})$`));
    }
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
