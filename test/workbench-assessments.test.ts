import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import {
  CHROMIUM,
  gone,
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

// API.md, "Approach trials" (the holder sees the arm as the suggested opening approach) and
// "Assessments" (templates of factors scored 0–3 or unknown; `change` against the previous one on
// the same template), as the workbench shows them.

interface CaseView {
  id: string;
  trial: { trialId: string; arm: string; allocatedAt: string } | null;
}
interface Template {
  id: string;
  name: string;
  version: number;
  factors: { key: string; label: string }[];
}
interface Assessment {
  id: string;
  templateId: string;
  phase: string;
  scores: Record<string, number | null>;
  note: string | null;
  assessedBy: string;
  change: Record<string, number | null>;
}
interface Touchpoint {
  direction: string;
  approaches: string[];
}

let browser: Browser;
let t: TestApp;
let base: string;
let programId: string;
let lead: Who;
let sam: Who;
let vulnerability: Template;
let wellbeing: Template;
let trialId: string;
const contexts: BrowserContext[] = [];
const urls: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];
/** Every assessment the pages posted, with its Idempotency-Key. */
const assessmentPosts: { key: string | undefined; body: unknown }[] = [];

async function newContext(width: number): Promise<BrowserContext> {
  const phone = width < 600;
  const context = await browser.newContext({
    viewport: { width, height: phone ? 780 : 900 },
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  context.on('request', (r) => {
    urls.push(r.url());
    if (r.method() === 'POST' && /\/v1\/cases\/[0-9a-f-]{36}\/assessments$/.test(new URL(r.url()).pathname)) {
      assessmentPosts.push({ key: r.headers()['idempotency-key'], body: r.postDataJSON() });
    }
  });
  context.on('page', (p) => {
    recordProblems(p, pageErrors, cspViolations);
  });
  return context;
}

async function openCase(page: Page, caseId: string) {
  await page.goto(`${base}/app#/case/${caseId}`);
  await visible(page.getByRole('heading', { level: 1, name: 'Case' }));
  await visible(page.getByRole('region', { name: 'Assessments' }));
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
const words = (v: string) => v.replaceAll('_', ' ');
const capital = (v: string) => `${words(v)[0]!.toUpperCase()}${words(v).slice(1)}`;
const assessmentsOf = async (who: Who, caseId: string) =>
  (await ok<{ items: Assessment[] }>(t, who, 'GET', `/v1/cases/${caseId}/assessments`)).items;
/** The score segment of one factor: the radio named e.g. "2 medium" in the group named by the factor's label. */
const score = (form: Locator, factor: string, name: string) =>
  form.getByRole('group', { name: factor, exact: true }).getByRole('radio', { name, exact: true });
/** One row of an assessment's table as it is seen: [factor, score, change] (text only screen readers hear left out). */
const row = (item: Locator, factor: string) =>
  item
    .getByRole('row')
    .filter({ has: item.page().getByRole('rowheader', { name: factor, exact: true }) })
    .locator('th, td')
    .evaluateAll((cells) =>
      (cells as unknown as { childNodes: { textContent: string | null; classList?: { contains(c: string): boolean } }[] }[]).map((cell) =>
        [...cell.childNodes]
          .filter((n) => !n.classList?.contains('visually-hidden'))
          .map((n) => n.textContent ?? '')
          .join('')
          .trim(),
      ),
    );

const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('approach trials and assessments in the workbench, in headless Chromium', () => {
  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, sam } = await cast(t, { lead: 'lead', sam: 'intervener' }));
    vulnerability = await ok<Template>(t, lead, 'POST', `/v1/programs/${programId}/assessment-templates`, {
      name: 'Vulnerability review',
      factors: [
        { key: 'social_isolation', label: 'Social isolation' },
        { key: 'grievance', label: 'Expressed grievance' },
        { key: 'us_them', label: 'Us-versus-them language' },
      ],
    });
    // Newer: the form offers it first on a case with no assessment yet.
    wellbeing = await ok<Template>(t, lead, 'POST', `/v1/programs/${programId}/assessment-templates`, {
      name: 'Wellbeing check',
      factors: [{ key: 'mood', label: 'Low mood' }],
    });
    // Running before the cases' first assignment, so each is allocated an arm.
    trialId = (
      await ok<{ id: string }>(t, lead, 'POST', `/v1/programs/${programId}/trials`, {
        name: 'Opening approach',
        arms: ['empathetic', 'questioning'],
      })
    ).id;
    base = await listenForBrowser(t);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.close();
  });

  it('the holder, on a phone, is shown the trial arm as the opening approach, already ticked, and the message logged carries it', async () => {
    const { id: caseId } = await activeCase(t, lead, programId, sam.id);
    const c = await ok<CaseView>(t, sam, 'GET', `/v1/cases/${caseId}`);
    expect(c.trial?.trialId).toBe(trialId);
    const arm = c.trial!.arm;
    const other = arm === 'empathetic' ? 'questioning' : 'empathetic';

    const me = await signIn(await newContext(360), sam, 'Today');
    await openCase(me, caseId);
    const log = me.getByRole('form', { name: 'Log a message' });
    const callout = log.locator('.callout');
    await visible(callout);
    expect(await callout.locator('p').allInnerTexts()).toEqual([
      `Suggested opening approach: ${capital(arm)}`,
      'This case is part of an approach trial: please open with this approach so the comparison is fair. ' +
        'It is ticked below; you can still change it.',
    ]);
    expect(await text(me.getByRole('definition').filter({ hasText: capital(arm) }))).toBe(capital(arm));
    const approaches = log.getByRole('group', { name: 'Approaches' });
    const armBox = approaches.getByRole('checkbox', { name: `${words(arm)} suggested`, exact: true });
    const otherBox = approaches.getByRole('checkbox', { name: words(other), exact: true });
    expect(await armBox.isChecked()).toBe(true);
    expect(await otherBox.isChecked()).toBe(false);
    expect(await approaches.getByRole('checkbox', { checked: true }).count()).toBe(1);
    await check(me, 'the holder’s case page at 360px with the trial suggestion');
    await log.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-trial-suggestion-360.png') });

    // An inbound message has no approach: choosing it unticks the suggestion, outbound ticks it again.
    await log.getByLabel('Direction').selectOption('inbound');
    expect(await armBox.isChecked()).toBe(false);
    await log.getByLabel('Direction').selectOption('outbound');
    expect(await armBox.isChecked()).toBe(true);
    // The user may add to it (or untick it): their choice is kept whatever the direction does.
    await otherBox.check();
    await log.getByLabel('Summary').fill('Opened gently, asked about the weekend');
    await log.getByRole('button', { name: 'Log message' }).click();
    await visible(log.getByText('Message logged.'));

    const tps = (await ok<{ items: Touchpoint[] }>(t, sam, 'GET', `/v1/cases/${caseId}/touchpoints`)).items;
    expect(tps).toHaveLength(1);
    expect(tps[0]!.direction).toBe('outbound');
    expect(tps[0]!.approaches).toContain(arm);
    expect([...tps[0]!.approaches].sort()).toEqual(['empathetic', 'questioning']);
    // The opening is logged: the suggestion goes, nothing is ticked for the next message.
    await gone(callout);
    expect(await approaches.getByRole('checkbox', { checked: true }).count()).toBe(0);
    expect(await approaches.locator('.suggested').count()).toBe(0);
    // The arm stays a fact of the case.
    expect(await text(me.getByRole('definition').filter({ hasText: capital(arm) }))).toBe(capital(arm));
  }, 90_000);

  it('the holder records a baseline and a review; the lead sees both with the change and records the closure', async () => {
    const { id: caseId } = await activeCase(t, lead, programId, sam.id);
    const me = await signIn(await newContext(360), sam, 'Today');
    await openCase(me, caseId);
    const section = me.getByRole('region', { name: 'Assessments' });
    await poll(() => text(section)).toContain('No assessment recorded yet.');

    // ---- the baseline ----------------------------------------------------------------------
    const opener = section.getByRole('button', { name: 'Record an assessment' });
    expect(await opener.getAttribute('aria-expanded')).toBe('false');
    await opener.click();
    const form = section.getByRole('form', { name: 'New assessment' });
    await visible(form);
    // The newest template first; choosing another brings its factors.
    const template = form.getByLabel('Template');
    expect(await template.locator('option:checked').textContent()).toBe('Wellbeing check (version 1)');
    await visible(form.getByRole('group', { name: 'Low mood' }));
    await template.selectOption({ label: 'Vulnerability review (version 1)' });
    await gone(form.getByRole('group', { name: 'Low mood' }));
    for (const f of vulnerability.factors) {
      const group = form.getByRole('group', { name: f.label, exact: true });
      expect(await group.getByRole('radio').count()).toBe(5);
      // Every factor starts as unknown: nothing is scored without a choice.
      expect(await group.getByRole('radio', { name: 'unknown', exact: true }).isChecked()).toBe(true);
    }
    expect(await form.getByRole('group', { name: 'Phase' }).getByRole('radio', { name: 'Baseline' }).isChecked()).toBe(true);
    await score(form, 'Social isolation', '2 medium').check();
    await score(form, 'Expressed grievance', '3 high').check();
    // Us-versus-them language stays unknown.
    await check(me, 'the holder’s case page at 360px with the assessment form open');
    await form.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-assessment-form-360.png') });
    await form.getByRole('button', { name: 'Record assessment' }).click();
    await poll(() => text(section.getByRole('status'))).toBe('Baseline assessment recorded.');
    await gone(form);

    let stored = await assessmentsOf(sam, caseId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      templateId: vulnerability.id,
      phase: 'baseline',
      scores: { social_isolation: 2, grievance: 3, us_them: null },
      note: null,
      assessedBy: sam.id,
    });
    const items = section.getByRole('listitem');
    await poll(() => items.count()).toBe(1);
    expect(await text(items.first().locator('.tp-head'))).toMatch(/^Baseline · Vulnerability review \(version 1\) · by you · /);
    // The first on its template: scores, no change column.
    expect(await items.first().getByRole('columnheader').allInnerTexts()).toEqual(['FACTOR', 'SCORE']);
    expect(await row(items.first(), 'Social isolation')).toEqual(['Social isolation', '2 medium']);
    expect(await row(items.first(), 'Us-versus-them language')).toEqual(['Us-versus-them language', 'unknown']);

    // ---- the review: the same template, the phase moved on ----------------------------------
    await opener.click();
    await visible(form);
    expect(await form.getByLabel('Template').locator('option:checked').textContent()).toBe('Vulnerability review (version 1)');
    expect(await form.getByRole('group', { name: 'Phase' }).getByRole('radio', { name: 'Review' }).isChecked()).toBe(true);
    await score(form, 'Social isolation', '3 high').check();
    await score(form, 'Expressed grievance', '1 low').check();
    await score(form, 'Us-versus-them language', '2 medium').check();
    await form.getByLabel('Note').fill('Calmer this week.\nStill angry about work.');
    await form.getByRole('button', { name: 'Record assessment' }).click();
    await poll(() => text(section.getByRole('status'))).toBe('Review assessment recorded.');

    stored = await assessmentsOf(sam, caseId);
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject({
      templateId: vulnerability.id,
      phase: 'review',
      scores: { social_isolation: 3, grievance: 1, us_them: 2 },
      note: 'Calmer this week.\nStill angry about work.',
      change: { social_isolation: 1, grievance: -2, us_them: null },
    });
    await poll(() => items.count()).toBe(2);
    // Oldest first, as the API lists them; the change against the baseline: +1 / −2 / —.
    const review = items.nth(1);
    expect(await text(review.locator('.tp-head'))).toMatch(/^Review · Vulnerability review \(version 1\) · by you · /);
    expect(await review.getByRole('columnheader').allInnerTexts()).toEqual(['FACTOR', 'SCORE', 'CHANGE']);
    expect(await row(review, 'Social isolation')).toEqual(['Social isolation', '3 high', '+1']);
    expect(await row(review, 'Expressed grievance')).toEqual(['Expressed grievance', '1 low', '\u22122']);
    expect(await row(review, 'Us-versus-them language')).toEqual(['Us-versus-them language', '2 medium', '—']);
    // The unknown change is said in words to a screen reader.
    const unknownChange = review.getByRole('row').nth(3).getByRole('cell').nth(1);
    expect(await text(unknownChange)).toBe('—not comparable');
    expect(await unknownChange.getByText('—').getAttribute('aria-hidden')).toBe('true');
    // As rendered (innerText, not the DOM's text): the line break typed is shown as a break.
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is under test
    expect(await review.locator('.assessment-note').innerText()).toBe('Calmer this week.\nStill angry about work.');
    await check(me, 'the holder’s case page at 360px with two assessments');
    await section.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-assessments-360.png') });
    await me.evaluate('window.scrollTo(0, 0)');
    await me.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-assessments-page-360.png'), fullPage: true });

    // Each create carried an Idempotency-Key of its own.
    const keys = assessmentPosts.map((p) => p.key);
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(k).toMatch(/^wb-[0-9a-f]{32}$/);
    expect(new Set(keys).size).toBe(2);

    // ---- the lead, at a desk: both, and the closure ------------------------------------------
    const lee = await signIn(await newContext(1280), lead, 'Approvals');
    await openCase(lee, caseId);
    const leadSection = lee.getByRole('region', { name: 'Assessments' });
    const leadItems = leadSection.getByRole('listitem');
    await poll(() => leadItems.count()).toBe(2);
    const samName = (await ok<{ name: string }>(t, sam, 'GET', '/v1/me')).name;
    expect(await text(leadItems.nth(1).locator('.tp-head'))).toContain(`· by ${samName} ·`);
    await leadSection.getByRole('button', { name: 'Record an assessment' }).click();
    const leadForm = leadSection.getByRole('form', { name: 'New assessment' });
    await visible(leadForm);
    await leadForm.getByRole('group', { name: 'Phase' }).getByRole('radio', { name: 'Closure' }).check();
    await score(leadForm, 'Social isolation', '1 low').check();
    await score(leadForm, 'Expressed grievance', '0 none').check();
    await check(lee, 'the lead’s case page at 1280px with the assessment form open');
    await lee.evaluate('window.scrollTo(0, 0)');
    await lee.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-assessments-form-1280.png'), fullPage: true });
    await leadForm.getByRole('button', { name: 'Record assessment' }).click();
    await poll(() => text(leadSection.getByRole('status'))).toBe('Closure assessment recorded.');
    await poll(() => leadItems.count()).toBe(3);
    stored = await assessmentsOf(lead, caseId);
    expect(stored[2]).toMatchObject({
      phase: 'closure',
      assessedBy: lead.id,
      scores: { social_isolation: 1, grievance: 0, us_them: null },
      change: { social_isolation: -2, grievance: -1, us_them: null },
    });
    expect(await row(leadItems.nth(2), 'Social isolation')).toEqual(['Social isolation', '1 low', '\u22122']);
    expect(await row(leadItems.nth(2), 'Expressed grievance')).toEqual(['Expressed grievance', '0 none', '\u22121']);
    await check(lee, 'the lead’s case page at 1280px with three assessments');
    await lee.evaluate('window.scrollTo(0, 0)');
    await lee.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-assessments-1280.png'), fullPage: true });
    await leadSection.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-assessments-section-1280.png') });
  }, 120_000);

  it('a refusal is shown with its detail (the case erased while the form was open), and nothing is recorded', async () => {
    const { id: caseId } = await activeCase(t, lead, programId, sam.id);
    const me = await signIn(await newContext(1280), lead, 'Approvals');
    await openCase(me, caseId);
    const section = me.getByRole('region', { name: 'Assessments' });
    await section.getByRole('button', { name: 'Record an assessment' }).click();
    const form = section.getByRole('form', { name: 'New assessment' });
    await score(form, 'Low mood', '1 low').check();
    await ok(t, lead, 'POST', `/v1/cases/${caseId}/erase`, { reason: 'subject asked' });
    await form.getByRole('button', { name: 'Record assessment' }).click();
    const alert = form.getByRole('alert');
    await visible(alert);
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${caseId}/assessments`,
      headers: lead.auth,
      payload: { templateId: wellbeing.id, phase: 'review', scores: { mood: 1 } },
    });
    expect(res.statusCode).toBe(409);
    expect(await text(alert)).toBe(res.json().detail);
    // The form stays open with what was chosen, for another try.
    expect(await score(form, 'Low mood', '1 low').isChecked()).toBe(true);
    expect(await assessmentsOf(lead, caseId)).toEqual([]);
  }, 60_000);

  it('with no template in the program, says a lead creates them; with no trial, suggests nothing', async () => {
    const other = await cast(t, { lead: 'lead', kim: 'intervener' });
    const { id: caseId } = await activeCase(t, other.lead, other.programId, other.kim.id);
    expect((await ok<CaseView>(t, other.kim, 'GET', `/v1/cases/${caseId}`)).trial).toBeNull();
    const me = await signIn(await newContext(360), other.kim, 'Today');
    await openCase(me, caseId);
    const section = me.getByRole('region', { name: 'Assessments' });
    await poll(() => text(section)).toContain(
      'This program has no assessment template yet: a lead creates them, and you can record assessments here once there is one.',
    );
    expect(await section.getByRole('button', { name: 'Record an assessment' }).count()).toBe(0);
    expect(await section.getByRole('radio').count()).toBe(0);
    const log = me.getByRole('form', { name: 'Log a message' });
    expect(await log.locator('.callout').count()).toBe(1);
    expect(await log.locator('.callout').isHidden()).toBe(true);
    expect(await log.getByText('Suggested opening approach').count()).toBe(0);
    expect(await log.getByRole('group', { name: 'Approaches' }).getByRole('checkbox', { checked: true }).count()).toBe(0);
    expect(await me.getByText('Trial approach').count()).toBe(0);
    await check(me, 'a case page at 360px in a program with no template');

    const lee = await signIn(await newContext(1280), other.lead, 'Approvals');
    await openCase(lee, caseId);
    await poll(() => text(lee.getByRole('region', { name: 'Assessments' }))).toContain(
      'This program has no assessment template yet. Create one',
    );
  }, 60_000);

  it('made no request off its origin, put nothing but case ids in its routes, and broke no CSP rule', () => {
    expect(urls.length).toBeGreaterThan(10);
    expect(urls.filter((u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'))).toEqual([]);
    for (const u of urls) {
      const hash = new URL(u).hash;
      if (hash) expect(hash, u).toMatch(/^#\/(today|approvals|case\/[0-9a-f-]{36})$/);
      expect(decodeURIComponent(u)).not.toMatch(/Calmer|angry/);
    }
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
