import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator } from 'playwright-core';
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

let browser: Browser;
let t: TestApp;
let base: string;
let programId: string;
let lead: Who;
let sam: Who;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];

type Touchpoint = { id: string; voidedAt: string | null; voidedBy: string | null; voidReason: string | null };

async function newContext(width: number): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 780 : 900 } });
  contexts.push(context);
  context.on('page', (page) => {
    recordProblems(page, pageErrors, cspViolations);
  });
  return context;
}

const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const focused = (l: Locator) =>
  l.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const touchpointsOf = async (caseId: string) =>
  (await ok<{ items: Touchpoint[] }>(t, lead, 'GET', `/v1/cases/${caseId}/touchpoints`)).items;

const signIn = (context: BrowserContext, who: Pick<Who, 'token'>, landing: string) => signInAt(base, context, who, landing);

describe.skipIf(!existsSync(CHROMIUM))('Void on a touchpoint in the workbench', () => {
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

  it('the logger voids a reply logged in error: asked for a reason, shown struck through, the stage back to contacted', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const post = (who: Who, body: object) => ok<{ id: string }>(t, who, 'POST', `/v1/cases/${c.id}/touchpoints`, body);
    await post(sam, { direction: 'outbound', channel: 'direct_message', occurredAt: ago(300), summary: 'Opened with a question' });
    const reply = await post(sam, { direction: 'inbound', channel: 'direct_message', occurredAt: ago(200), summary: 'Wrong case, sorry' });
    // Logged by the lead: Sam holds the case but did not log it, so Sam has no Void on it.
    const leadAt = ago(100);
    const byLead = await post(lead, { direction: 'inbound', channel: 'comment', occurredAt: leadAt });

    const context = await newContext(1280);
    const me = await signIn(context, sam, 'Today');
    await me.goto(`${base}/app#/case/${c.id}`);
    await poll(() => text(me.getByLabel('Stage'))).toBe('responded');
    const messages = me.getByRole('region', { name: 'Messages' });
    const item = (id: string) => messages.locator(`li[data-touchpoint-id="${id}"]`);
    const voidButton = (id: string) => item(id).getByRole('button', { name: /^Void the message/ });
    await visible(voidButton(reply.id));
    expect(await voidButton(byLead.id).count()).toBe(0);

    // Opening asks for a reason (focused); Cancel puts the keyboard back on the button.
    await voidButton(reply.id).click();
    const form = item(reply.id).getByRole('form', { name: 'Void this message' });
    await poll(() => focused(form.getByLabel('Reason', { exact: true }))).toBe(true);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => focused(voidButton(reply.id))).toBe(true);

    // No reason: refused next to the field, nothing voided.
    await voidButton(reply.id).click();
    await form.getByRole('button', { name: 'Void message' }).click();
    await poll(() => form.getByLabel('Reason', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await poll(() => text(form.locator('.field-error'))).toBe('This is needed.');
    expect((await touchpointsOf(c.id)).find((x) => x.id === reply.id)!.voidedAt).toBeNull();

    await form.getByLabel('Reason', { exact: true }).fill('Logged on the wrong case');
    await form.getByRole('button', { name: 'Void message' }).click();
    await poll(() => text(item(reply.id).locator('.tp-void'))).toMatch(/^Voided: Logged on the wrong case · by you /);
    // Struck through: the message's lines are inside <s>, and it offers no Void any more.
    expect(await item(reply.id).locator('.tp-head s').count()).toBe(1);
    expect(await item(reply.id).locator('.tp-summary s').textContent()).toBe('Wrong case, sorry');
    expect(await voidButton(reply.id).count()).toBe(0);
    await poll(() => focused(item(reply.id).locator('.tp-void'))).toBe(true);
    // The lead's inbound message still counts: the case is responded from it, later.
    await poll(() => text(me.getByLabel('Stage'))).toBe('responded');

    const voided = (await touchpointsOf(c.id)).find((x) => x.id === reply.id)!;
    expect(voided).toMatchObject({ voidedBy: sam.id, voidReason: 'Logged on the wrong case' });
    expect((await ok<{ respondedAt: string }>(t, lead, 'GET', `/v1/cases/${c.id}`)).respondedAt).toBe(leadAt);

    // The lead voids the other reply: the case goes back to contacted on both pages.
    const leadContext = await newContext(1280);
    const lee = await signIn(leadContext, lead, 'Approvals');
    await lee.goto(`${base}/app#/case/${c.id}`);
    const leeMessages = lee.getByRole('region', { name: 'Messages' });
    const leeItem = leeMessages.locator(`li[data-touchpoint-id="${byLead.id}"]`);
    // A lead may void any message of the program; a voided one offers nothing.
    expect(await leeMessages.locator(`li[data-touchpoint-id="${reply.id}"]`).getByRole('button').count()).toBe(0);
    await leeItem.getByRole('button', { name: /^Void the message/ }).click();
    await leeItem.getByLabel('Reason', { exact: true }).fill('Duplicate of a message on another case');
    await leeItem.getByRole('button', { name: 'Void message' }).click();
    await poll(() => text(lee.getByLabel('Stage'))).toBe('contacted');
    await poll(() => text(lee.getByRole('region', { name: 'History' }))).toContain('Message voided by you');
    await poll(() => text(lee.getByRole('region', { name: 'History' }))).toContain('reason: Duplicate of a message on another case');
    expect((await ok<{ stage: string }>(t, lead, 'GET', `/v1/cases/${c.id}`)).stage).toBe('contacted');

    await me.reload();
    await poll(() => text(me.getByLabel('Stage'))).toBe('contacted');
    await poll(() => text(item(byLead.id).locator('.tp-void'))).toMatch(/^Voided: Duplicate of a message on another case/);
    await me.evaluate('window.scrollTo(0, 0)');
    await me.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-void.png'), fullPage: true });
    expect(await seriousViolations(me)).toEqual([]);
    expect(await seriousViolations(lee)).toEqual([]);
    const fit = await me.evaluate<{ page: number; viewport: number }>(
      '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
    );
    expect(fit.page).toBeLessThanOrEqual(fit.viewport);
  }, 90_000);

  it('fits a phone: the open Void form at 360px', async () => {
    const c = await activeCase(t, lead, programId, sam.id, { flaggedAt: ago(1000) });
    const tp = await ok<{ id: string }>(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
      direction: 'outbound',
      channel: 'paid_message',
      occurredAt: ago(30),
      costCents: 100,
    });
    const context = await newContext(360);
    const me = await signIn(context, sam, 'Today');
    await me.goto(`${base}/app#/case/${c.id}`);
    const item = me.locator(`li[data-touchpoint-id="${tp.id}"]`);
    await item.getByRole('button', { name: /^Void the message/ }).click();
    await visible(item.getByLabel('Reason', { exact: true }));
    await item.scrollIntoViewIfNeeded();
    await me.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-void-360.png'), fullPage: true });
    await item.screenshot({ path: path.join(OUTPUT_DIR, 'workbench-void-360-form.png') });
    expect(await seriousViolations(me)).toEqual([]);
    const fit = await me.evaluate<{ page: number; viewport: number }>(
      '({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })',
    );
    expect(fit.page).toBeLessThanOrEqual(fit.viewport);
  }, 60_000);

  it('no page error and no CSP violation along the way', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
