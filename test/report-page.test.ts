import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { seriousViolations } from './helpers/browser.js';
import { cast, type Who } from './helpers/cast.js';
import { activeCase, flagBody, ok } from './helpers/story.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = fileURLToPath(new URL('../test-output/', import.meta.url));

interface Rate {
  value: number;
  ci95: [number, number];
}
interface Row {
  group: string;
  suppressed: boolean;
  [field: string]: unknown;
}
interface Report {
  rows: Row[];
  asOf: string;
  definition: Record<string, unknown>;
}

// The table's display rules, as the page promises them: counts as integers, rates as
// `value% (low–high%)`, hours to one decimal, cents as money, differences as `+1.2 pp` with an
// interval as `(−3.0 to +5.4)`, a hidden small cell as "hidden (small number)", nothing to show as "—".
const HIDDEN = 'hidden (small number)';
const pct = (x: number) => (x * 100).toFixed(1);
const signed = (d: number) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d * 100).toFixed(1)}`;
const diff = (d: number) => `${signed(d)} pp`;
const diffCi = (d: { value: number; ci95: number[] }) => `${diff(d.value)} (${signed(d.ci95[0]!)} to ${signed(d.ci95[1]!)})`;
const pv = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));
const rateText = (r: Rate) => `${pct(r.value)}% (${pct(r.ci95[0])}–${pct(r.ci95[1])}%)`;
const COUNT_FIELDS = ['flagged', 'accepted', 'contacted', 'responded', 'sustained', 'positive'];
const RATE_FIELDS = ['responseRate', 'sustainedRate', 'positiveRate'];
function expectedCells(row: Row, table: 'figures' | 'comparison'): Record<string, string> {
  const shown = (v: unknown, show: (v: never) => string) => (v == null ? (row.suppressed ? HIDDEN : '—') : show(v as never));
  const cells: Record<string, string> = {};
  if (table === 'comparison') {
    const vs = row['vsRest'] as {
      responseRateDiff: number | null;
      sustainedRateDiff: number | null;
      pValue: number | null;
      responsePValue: number | null;
      pValueAdjusted: number | null;
      adjusted: { sustainedRateDiff: number; ci95: number[]; strata: number } | null;
    } | null;
    // Crude sustained-rate difference, its p and Holm's p, then the Mantel-Haenszel one beside it, then the response rate.
    cells['vsRest.sustainedRateDiff'] = shown(vs?.sustainedRateDiff, diff);
    cells['vsRest.pValue'] = shown(vs?.pValue, pv);
    cells['vsRest.pValueAdjusted'] = shown(vs?.pValueAdjusted, pv);
    cells['vsRest.adjusted'] = shown(vs?.adjusted, (a: { sustainedRateDiff: number; ci95: number[] }) =>
      diffCi({ value: a.sustainedRateDiff, ci95: a.ci95 }),
    );
    cells['vsRest.adjusted.strata'] = shown(vs?.adjusted?.strata, (n: number) => String(n));
    cells['vsRest.responseRateDiff'] = shown(vs?.responseRateDiff, diff);
    cells['vsRest.responsePValue'] = shown(vs?.responsePValue, pv);
    return cells;
  }
  for (const f of COUNT_FIELDS) cells[f] = shown(row[f], (n: number) => n.toLocaleString('en-US'));
  // Under outcome review only: the closed cases still waiting for it.
  if ('pendingReview' in row) cells['pendingReview'] = shown(row['pendingReview'], (n: number) => n.toLocaleString('en-US'));
  for (const f of RATE_FIELDS) cells[f] = shown(row[f], rateText);
  cells['medianHoursToFirstResponse'] = shown(row['medianHoursToFirstResponse'], (h: number) => h.toFixed(1));
  cells['costPerSustainedCents'] = shown(row['costPerSustainedCents'], (c: number) => (c / 100).toFixed(2));
  return cells;
}

interface TrialArm {
  arm: string;
  allocated: number | null;
  contacted: number | null;
  responded: number | null;
  sustained: number | null;
  responseRate: Rate | null;
  sustainedRate: Rate | null;
  compliance: Rate | null;
  suppressed: boolean;
}
interface TrialComparison {
  arm: string;
  vs: string;
  sustainedRateDiff: Rate | null;
  responseRateDiff: Rate | null;
  pValue: number | null;
  pValueAdjusted: number | null;
}
interface TrialAnalysis {
  arms: TrialArm[];
  comparisons: TrialComparison[];
  minimumDetectableDiff: number | null;
}
interface TrialReport extends TrialAnalysis {
  trialId: string;
  name: string;
  status: 'running' | 'stopped';
  startedAt: string;
  stoppedAt: string | null;
  analysis: 'intention_to_treat';
  perProtocol: TrialAnalysis;
  asOf: string;
}

/** The trial's tables as the page promises them: per protocol has no contacted or compliance column (they would repeat or be empty). */
function expectedArmCells(row: TrialArm, analysis: 'itt' | 'pp'): Record<string, string> {
  const shown = (v: unknown, show: (v: never) => string) => (v == null ? (row.suppressed ? HIDDEN : '—') : show(v as never));
  const count = (n: number) => n.toLocaleString('en-US');
  const cells: Record<string, string> = { allocated: shown(row.allocated, count) };
  if (analysis === 'itt') cells['contacted'] = shown(row.contacted, count);
  cells['responded'] = shown(row.responded, count);
  cells['sustained'] = shown(row.sustained, count);
  cells['responseRate'] = shown(row.responseRate, rateText);
  cells['sustainedRate'] = shown(row.sustainedRate, rateText);
  if (analysis === 'itt') cells['compliance'] = shown(row.compliance, rateText);
  return cells;
}
function expectedComparisonCells(row: TrialComparison, arms: TrialArm[]): Record<string, string> {
  // A missing figure built on a hidden arm is hidden; otherwise there is nothing to compare yet.
  const hidden = arms.some((a) => a.suppressed && (a.arm === row.arm || a.arm === row.vs));
  const shown = (v: unknown, show: (v: never) => string) => (v == null ? (hidden ? HIDDEN : '—') : show(v as never));
  return {
    sustainedRateDiff: shown(row.sustainedRateDiff, diffCi),
    pValue: shown(row.pValue, pv),
    pValueAdjusted: shown(row.pValueAdjusted, pv),
    responseRateDiff: shown(row.responseRateDiff, diffCi),
  };
}
/** The minimum detectable difference in words: whole percentage points (one decimal below 1). */
function mddSentence(mdd: number | null, arms: TrialArm[]): string {
  if (mdd == null && arms.some((a) => a.suppressed))
    return 'How small a difference this trial can detect is hidden while an arm is below the minimum cell size.';
  if (mdd == null) return 'How small a difference this trial can detect is not known until every arm has cases.';
  if (mdd >= 1) return 'With these arm sizes the trial cannot yet reliably detect any difference in sustained rate: it needs more cases.';
  const points = mdd * 100;
  return `With these arm sizes the trial can detect a difference in sustained rate of about ${points < 1 ? points.toFixed(1) : Math.round(points)} percentage points (80% power, two-sided test at 5%); a smaller true difference would probably go unnoticed.`;
}

/** The rendered table as { group, label, cells } per body row, read through locators (no DOM types here). */
async function readTable(page: Page, id = 'report-table') {
  const out: { group: string; label: string; cells: Record<string, string> }[] = [];
  const rows = page.locator(`#${id} tbody tr`);
  for (let i = 0; i < (await rows.count()); i++) {
    const tr = rows.nth(i);
    const cells: Record<string, string> = {};
    const tds = tr.locator('td');
    for (let j = 0; j < (await tds.count()); j++) {
      cells[(await tds.nth(j).getAttribute('data-field'))!] = ((await tds.nth(j).textContent()) ?? '').trim();
    }
    out.push({ group: (await tr.getAttribute('data-group'))!, label: ((await tr.locator('th').textContent()) ?? '').trim(), cells });
  }
  return out;
}

/** axe-core's WCAG 2.1 A/AA rules on the page as it is now: the violations, one line each. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page } as never).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** How many of the canvas's pixels were painted (alpha > 0), and how many it has. */
async function painted(page: Page, id: string) {
  return page.evaluate<{ painted: number; total: number }>(`(() => {
    const c = document.getElementById(${JSON.stringify(id)});
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
    return { painted, total: d.length / 4 };
  })()`);
}

describe.skipIf(!existsSync(CHROMIUM))('the report page in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let programId: string;
  let lead: Who;
  let sam: Who;
  let kim: Who;
  let profileDir: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const foreignRequests: string[] = [];

  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  let handles = 0;
  const profile = (platform: string) => ({ platform, handle: `@rp_${process.pid % 100000}_${++handles}`, language: 'en' });

  /** One case through the API: flagged, or active with touchpoints ('o' outbound, 'i' inbound), maybe closed. */
  async function seedCase(c: {
    ideology: string;
    platform: string;
    riskLevel: string;
    intervener?: Who;
    touches?: string;
    approaches?: string[];
    costCents?: number;
    outcome?: string;
  }) {
    const extra = { ideology: c.ideology, riskLevel: c.riskLevel, profile: profile(c.platform), flaggedAt: minutesAgo(600) };
    if (!c.intervener) {
      await ok(t, lead, 'POST', '/v1/cases', flagBody(programId, extra));
      return;
    }
    const { id } = await activeCase(t, lead, programId, c.intervener.id, extra);
    for (const [i, d] of [...(c.touches ?? '')].entries()) {
      await ok(t, c.intervener, 'POST', `/v1/cases/${id}/touchpoints`, {
        direction: d === 'o' ? 'outbound' : 'inbound',
        channel: 'direct_message',
        occurredAt: minutesAgo(500 - 37 * (i + 1)),
        ...(i === 0 ? { approaches: c.approaches ?? ['empathetic'], ...(c.costCents ? { costCents: c.costCents } : {}) } : {}),
      });
    }
    if (c.outcome) await ok(t, c.intervener, 'POST', `/v1/cases/${id}/close`, { outcome: c.outcome, note: 'seeded' });
  }

  const report = async (q: Record<string, string>, format?: 'csv') => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/engagement?${new URLSearchParams({ ...q, ...(format ? { format } : {}) })}`,
      headers: lead.auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res;
  };

  /** Picks a grouping, shows the report, and waits until the table holds it. */
  async function show(groupBy: string) {
    const before = (await page.locator('#report').getAttribute('data-rendered')) ?? '0';
    await page.selectOption('#group-by', groupBy);
    await page.click('#show');
    // A selector, not waitForFunction: the page's CSP (rightly) forbids the eval that would need.
    await page.locator(`#report[data-rendered="${Number(before) + 1}"]`).waitFor({ state: 'visible' });
    return { programId, from: await page.inputValue('#from'), to: await page.inputValue('#to'), groupBy };
  }

  async function expectTableMatchesApi(q: Record<string, string>) {
    const api = (await report(q)).json() as Report;
    const table = await readTable(page);
    expect(table.map((r) => r.group)).toEqual(api.rows.map((r) => r.group));
    expect(api.rows.at(-1)!.group).toBe('total');
    for (const [i, row] of api.rows.entries()) {
      // Interveners by name: a lead cannot tell staff ids apart.
      const label = row.group === 'total' ? 'Total' : q['groupBy'] === 'intervener' ? (row as { name?: string }).name : row.group;
      if (q['groupBy'] === 'intervener' && row.group !== 'total') expect(label).toMatch(/^intervener /);
      expect(table[i]!.label).toBe(label);
      expect(table[i]!.cells, `row ${row.group}`).toEqual(expectedCells(row, 'figures'));
    }
    // Approaches against the rest: a table of their own (the total has nothing to compare with).
    expect(await page.locator('#comparison').isVisible()).toBe(q['groupBy'] === 'approach');
    if (q['groupBy'] === 'approach') {
      const comparison = await readTable(page, 'comparison-table');
      const groups = api.rows.filter((r) => r.group !== 'total');
      expect(comparison.map((r) => r.group)).toEqual(groups.map((r) => r.group));
      for (const [i, row] of groups.entries()) expect(comparison[i]!.cells, `row ${row.group}`).toEqual(expectedCells(row, 'comparison'));
    }
    return api;
  }

  beforeAll(async () => {
    t = await createTestApp();
    ({ programId, lead, sam, kim } = await cast(
      t,
      {
        lead: 'lead',
        sam: { role: 'intervener', specialisms: ['far_right'], languages: ['en'] },
        kim: { role: 'intervener', specialisms: ['islamist'], languages: ['en'] },
      },
      { minCellSize: 1, sustainedMinMessages: 3, sustainedMinInbound: 1 },
    ));

    // 7 cases: 6 accepted, 5 contacted, 4 responded, 2 sustained, 1 positive.
    await seedCase({
      ideology: 'far_right',
      platform: 'x',
      riskLevel: 'medium',
      intervener: sam,
      touches: 'oio',
      costCents: 250,
      outcome: 'positive_change',
    });
    await seedCase({
      ideology: 'far_right',
      platform: 'youtube',
      riskLevel: 'high',
      intervener: sam,
      touches: 'oi',
      approaches: ['questioning'],
    });
    await seedCase({ ideology: 'far_right', platform: 'x', riskLevel: 'low', intervener: sam });
    await seedCase({
      ideology: 'islamist',
      platform: 'telegram',
      riskLevel: 'medium',
      intervener: kim,
      touches: 'oiio',
      approaches: ['empathetic', 'personal_story'],
      costCents: 120,
    });
    await seedCase({ ideology: 'islamist', platform: 'x', riskLevel: 'low', intervener: kim, touches: 'o', approaches: ['informational'] });
    await seedCase({ ideology: 'other', platform: 'tiktok', riskLevel: 'low', intervener: kim, touches: 'oi', approaches: ['humour'] });
    await seedCase({ ideology: 'other', platform: 'reddit', riskLevel: 'high' });

    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    if (!address || typeof address === 'string') throw new Error('the app is not listening on TCP');
    base = `http://127.0.0.1:${address.port}`;

    profileDir = await mkdtemp(path.join(tmpdir(), 'overture-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      acceptDownloads: true,
      // A common laptop width: the table must fit it without clipping.
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    context.on('request', (r) => {
      if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreignRequests.push(r.url());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
    await t?.close();
  });

  it('serves the page with a strict CSP and only the allow-listed assets', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/reports' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(res.body).not.toMatch(/https?:\/\//); // nothing from another origin

    const links = [...res.body.matchAll(/(?:src|href)="(\/reports\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(links.map((l) => l.split('?')[0]).sort()).toEqual([
      '/reports/assets/chart.umd.js',
      '/reports/assets/reports.css',
      '/reports/assets/reports.js',
    ]);
    for (const link of links) {
      const asset = await t.app.inject({ method: 'GET', url: link });
      expect(asset.statusCode, link).toBe(200);
      expect(asset.headers['content-type']).toBe(link.includes('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8');
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const again = await t.app.inject({
        method: 'GET',
        url: link.split('?')[0]!,
        headers: { 'if-none-match': String(asset.headers['etag']) },
      });
      expect(again.statusCode).toBe(304);
    }
    const chart = await t.app.inject({ method: 'GET', url: '/reports/assets/chart.umd.js' });
    expect(chart.body).toContain('Chart.js v4');
    expect(chart.headers['cache-control']).toBe('no-cache');

    for (const url of [
      '/reports/assets/reports.html',
      '/reports/assets/..%2F..%2F..%2Fpackage.json',
      '/reports/assets/%2E%2E%2Freports-page.ts',
      '/reports/assets/__proto__',
      '/reports/assets/..%2F..%2Fsrc%2Fhttp%2Fpages%2Freports.html',
      '/reports/assets/..%2Fpages%2Freports.js',
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('"name"');
    }
  });

  it('a lead pastes a token, picks a grouping, and sees the charts, the right figures and the CSV', async () => {
    await page.goto(`${base}/reports`);
    await expect.poll(() => page.title()).toBe('Reports · Overture');
    expect(await page.inputValue('#to')).toBe(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10));
    expect(await page.inputValue('#from')).toBe(new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10));

    await page.fill('#token', lead.token);
    await page.click('#save-token');
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#program').inputValue()).toBe(programId);
    const storage = await page.evaluate<{ session: string | null; local: number; cookie: string }>(
      `({ session: sessionStorage.getItem('overture.token'), local: localStorage.length, cookie: document.cookie })`,
    );
    expect(storage).toEqual({ session: lead.token, local: 0, cookie: '' });

    // The token survives a reload of the tab (sessionStorage), and the page signs in by itself.
    await page.reload();
    await page.locator('#signed-in').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#program').inputValue()).toBe(programId);

    const q = await show('ideology');
    const api = await expectTableMatchesApi(q);
    const total = api.rows.at(-1)!;
    expect(total).toMatchObject({ flagged: 7, accepted: 6, contacted: 5, responded: 4, sustained: 2, positive: 1, suppressed: false });
    expect(await page.locator('#report-table .suppressed').count()).toBe(0);
    expect(await page.locator('#report-table tr[data-group="total"] td[data-field="responseRate"]').textContent()).toBe(
      `80.0% (${pct((total['responseRate'] as Rate).ci95[0])}–${pct((total['responseRate'] as Rate).ci95[1])}%)`,
    );

    // asOf and the definition sit under the title.
    // asOf is "now" when nothing waits for the rollup, so the page's own fetch is a moment older.
    const asOf = (await page.locator('#as-of').getAttribute('datetime'))!;
    expect(Math.abs(Date.parse(asOf) - Date.parse(api.asOf))).toBeLessThan(60_000);
    expect(await page.locator('#as-of').textContent()).toBe(`${asOf.slice(0, 19).replace('T', ' ')} UTC`);
    // The definition is said in a sentence, its full list folded away with labels in words.
    expect(await page.locator('#definition-summary').textContent()).toBe(
      `A case counts as sustained after ${api.definition['sustainedMinMessages']} messages, ${api.definition['sustainedMinInbound']} of them replies; rates are over contacted cases with 95% intervals; groups smaller than ${api.definition['minCellSize']} are hidden.`,
    );
    // Without outcome review the positive figure says it is self-reported.
    expect(await page.locator('#positive-source').textContent()).toBe('Positive change is self-reported by whoever closed the case.');
    expect(await page.locator('#report-table thead th', { hasText: 'Positive (self-reported)' }).count()).toBe(1);
    expect(await page.locator('#report-table td[data-field="pendingReview"]').count()).toBe(0);
    expect(await page.locator('#definition').isVisible()).toBe(false);
    expect(await page.locator('#definition dt[data-key="minCellSize"]').textContent()).toBe('Smallest group shown');
    for (const [key, value] of Object.entries(api.definition)) {
      const dt = page.locator(`#definition dt[data-key="${key}"]`);
      expect(await dt.count(), key).toBe(1);
      expect(await dt.textContent(), key).not.toMatch(/^[a-z]+[A-Z]/);
      expect(await dt.locator('xpath=following-sibling::dd[1]').textContent()).toBe(
        typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value),
      );
    }

    for (const id of ['funnel-chart', 'rates-chart', 'trend-chart']) {
      const p = await painted(page, id);
      expect(p.total, id).toBeGreaterThan(10_000);
      expect(p.painted / p.total, `${id} is blank`).toBeGreaterThan(0.01);
    }

    await mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'report-page.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`engagement-ideology-${q.from}-${q.to}.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toBe((await report(q, 'csv')).body);
    expect(csv.trim().split(/\r?\n/)).toHaveLength(api.rows.length + 1);

    // Another grouping: approach rows also carry the comparison with the rest.
    const qa = await show('approach');
    await expectTableMatchesApi(qa);
    // Crude p, Holm's p for the sustained rate, and the response rate's p; the adjusted difference sits beside them.
    expect(await page.locator('#comparison-table thead th', { hasText: 'p-value' }).count()).toBe(3);
    expect(await page.locator('#comparison-table thead th[scope="colgroup"]').allTextContents()).toEqual([
      'Sustained rate: crude (as observed)',
      'Sustained rate: adjusted, like with like (Mantel-Haenszel)',
      'Response rate: crude',
    ]);
    // This program has no trial: the section says so instead of an empty picker.
    expect(await page.locator('#no-trials').isVisible()).toBe(true);
    expect(await page.locator('#trial-form').isHidden()).toBe(true);
    // The widest table fits the window: nothing clipped, no sideways scrolling.
    const fit = await page.evaluate<{ table: number; wrap: number; page: number; viewport: number }[]>(
      `[...document.querySelectorAll('.table-wrap')].map((w) => ({ table: w.scrollWidth, wrap: w.clientWidth, page: document.documentElement.scrollWidth, viewport: window.innerWidth }))`,
    );
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-approach.png'), fullPage: true });
    // The widest state of the page (both tables, all charts) passes WCAG 2.1 AA's automated checks.
    expect(await accessibilityViolations(page)).toEqual([]);
    // The figures and the comparison (the trial tables are hidden: this program has no trial).
    expect(fit.filter((f) => f.wrap > 0)).toHaveLength(2);
    for (const f of fit) {
      expect(f.table, JSON.stringify(f)).toBeLessThanOrEqual(f.wrap);
      expect(f.page, JSON.stringify(f)).toBeLessThanOrEqual(f.viewport);
    }
    const qi = await show('intervener');
    await expectTableMatchesApi(qi);

    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(foreignRequests).toEqual([]);
  }, 90_000);

  it('marks suppressed cells as suppressed when a group is smaller than minCellSize', async () => {
    const current = await t.app.inject({ method: 'GET', url: `/v1/programs/${programId}`, headers: lead.auth });
    await ok(
      t,
      lead,
      'PATCH',
      `/v1/programs/${programId}`,
      { settings: { minCellSize: 3 } },
      { 'if-match': String(current.headers['etag']) },
    );

    const q = await show('ideology');
    const api = await expectTableMatchesApi(q);
    const small = api.rows.filter((r) => r.suppressed);
    expect(small.length).toBeGreaterThan(0);
    for (const row of small) {
      const cells = page.locator(`#report-table tr[data-group="${row.group}"] td .suppressed`);
      expect(await cells.count(), row.group).toBeGreaterThan(0);
      expect(await cells.first().textContent()).toBe(HIDDEN);
    }
    expect(await page.locator('#rates-suppressed').textContent()).toContain(small[0]!.group);
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-suppressed.png'), fullPage: true });
    // Marked cells are wider than numbers: the table still fits the window.
    const fit = await page.evaluate<{ table: number; wrap: number }>(
      `(() => { const w = document.querySelector('.table-wrap'); return { table: w.scrollWidth, wrap: w.clientWidth }; })()`,
    );
    expect(fit.table, JSON.stringify(fit)).toBeLessThanOrEqual(fit.wrap);
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it('under outcome review, shows the reviewed positive figure and the cases still waiting for review', async () => {
    const rv = await cast(
      t,
      { lead: 'lead', sam: 'intervener', ivy: 'intervener' },
      { minCellSize: 1, outcomeReview: 'required', secondCoderRate: 0 },
    );
    const closed: string[] = [];
    for (let n = 0; n < 3; n++) {
      const { id } = await activeCase(t, rv.lead, rv.programId, rv.sam.id, { profile: profile('x'), flaggedAt: minutesAgo(600) });
      for (const [i, direction] of ['outbound', 'inbound'].entries()) {
        await ok(t, rv.sam, 'POST', `/v1/cases/${id}/touchpoints`, {
          direction,
          channel: 'direct_message',
          occurredAt: minutesAgo(500 - i),
        });
      }
      await ok(t, rv.lead, 'POST', `/v1/cases/${id}/close`, { outcome: 'positive_change' });
      closed.push(id);
    }
    // Three closed positive by their holder: one confirmed, one overturned, one still waiting.
    await ok(t, rv.ivy, 'POST', `/v1/cases/${closed[0]}/outcome-reviews`, { outcome: 'positive_change', signals: [], confidence: 'high' });
    await ok(t, rv.ivy, 'POST', `/v1/cases/${closed[1]}/outcome-reviews`, { outcome: 'disengaged', signals: ['none'], confidence: 'low' });

    // Bring the rollups current first: the page's sign-in render and its Show may otherwise race for the same pass.
    const warm = `/v1/reports/engagement?programId=${rv.programId}&from=2020-01-01&to=2030-01-01`;
    expect((await t.app.inject({ method: 'GET', url: warm, headers: rv.lead.auth })).statusCode).toBe(200);
    const reviewPage = await context.newPage();
    reviewPage.on('pageerror', (e) => pageErrors.push(e.message));
    await reviewPage.goto(`${base}/reports`);
    await reviewPage.fill('#token', rv.lead.token);
    await reviewPage.click('#save-token');
    await expect.poll(() => reviewPage.locator('#program').inputValue()).toBe(rv.programId);
    await reviewPage.selectOption('#group-by', 'ideology');
    await reviewPage.click('#show');
    await reviewPage.locator('#report[data-rendered="1"]').waitFor({ state: 'visible' });
    const q = {
      programId: rv.programId,
      from: await reviewPage.inputValue('#from'),
      to: await reviewPage.inputValue('#to'),
      groupBy: 'ideology',
    };
    const res = await t.app.inject({ method: 'GET', url: `/v1/reports/engagement?${new URLSearchParams(q)}`, headers: rv.lead.auth });
    const api = res.json() as Report;
    const total = api.rows.at(-1)!;
    expect(total).toMatchObject({ group: 'total', positive: 1, pendingReview: 1 });
    expect(api.definition['positiveSource']).toBe('reviewed');
    const table = await readTable(reviewPage);
    expect(table.map((r) => r.group)).toEqual(api.rows.map((r) => r.group));
    for (const [i, row] of api.rows.entries()) expect(table[i]!.cells, `row ${row.group}`).toEqual(expectedCells(row, 'figures'));
    expect(table.at(-1)!.cells).toMatchObject({ positive: '1', pendingReview: '1' });
    expect(await reviewPage.locator('#report-table thead th', { hasText: 'Positive (reviewed)' }).count()).toBe(1);
    expect(await reviewPage.locator('#report-table thead th', { hasText: 'Waiting for review' }).count()).toBe(1);
    expect(await reviewPage.locator('#positive-source').textContent()).toBe(
      'Positive change counts reviewed outcomes only; 1 closed cases wait for review.',
    );
    expect(await reviewPage.locator('#definition dt[data-key="positiveSource"]').textContent()).toBe('Positive figure from');
    await reviewPage.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-reviewed.png'), fullPage: true });
    expect(await accessibilityViolations(reviewPage)).toEqual([]);
    await reviewPage.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows the problem detail for a refused token, and forgetting the token clears it', async () => {
    const intervenerPage = await context.newPage();
    await intervenerPage.goto(`${base}/reports`);
    await intervenerPage.fill('#token', sam.token);
    await intervenerPage.click('#save-token');
    await intervenerPage.locator('#alert').waitFor({ state: 'visible' });
    // Said in words before any request is refused: not "Pick a program", not a bare 403.
    expect(await intervenerPage.locator('#alert .detail').textContent()).toMatch(
      /^Reports are for program leads and evaluators\. This token belongs to .+, whose role is intervener/,
    );
    expect(await intervenerPage.evaluate<number>('sessionStorage.length')).toBe(0);
    // The sign-in state, with its alert, is accessible too.
    expect(await accessibilityViolations(intervenerPage)).toEqual([]);
    await intervenerPage.close();

    // A 400 from the API (a window too long) shows its detail too.
    await page.fill('#from', '2000-01-01');
    await page.click('#show');
    await page.locator('#alert').waitFor({ state: 'visible' });
    const q = { programId, from: '2000-01-01', to: await page.inputValue('#to'), groupBy: await page.inputValue('#group-by') };
    const refused = await t.app.inject({ method: 'GET', url: `/v1/reports/engagement?${new URLSearchParams(q)}`, headers: lead.auth });
    expect(refused.statusCode).toBe(400);
    expect(await page.locator('#alert .detail').textContent()).toBe(refused.json().detail);
    expect(await page.locator('#alert').textContent()).toContain('400');

    await page.click('#forget-token');
    await page.locator('#token-form').waitFor({ state: 'visible' });
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(await page.locator('#report').isHidden()).toBe(true);

    await page.fill('#token', `ovt_${'x'.repeat(40)}`);
    await page.click('#save-token');
    await page.locator('#alert').waitFor({ state: 'visible' });
    expect(await page.locator('#alert .detail').textContent()).toBe('The token is unknown, revoked, or its holder is deactivated.');
    expect(await page.locator('#alert').textContent()).toContain('401');
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);

    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 60_000);

  describe('trials and the adjusted approach comparison', () => {
    type Plan = { approach: string; touches: string };
    // Per arm, eight cases in the order they are allocated: the approach of the first message ('arm' = the
    // case's own arm) and the touchpoints ('o' outbound, 'i' inbound; 'oio' is sustained). Intention to treat
    // every count is at least 3 (nothing hidden); per protocol, humour's 3 complying cases have 2 replies and
    // 1 sustained, below minCellSize 3, so they are hidden. By approach, humour (3 contacted, 2 replies) and
    // informational (2 contacted) are hidden; empathetic (10) and questioning (6) are shown.
    const ARMS = ['empathetic', 'questioning', 'humour'] as const;
    const plan = (approach: string, touches: string): Plan => ({ approach, touches });
    const PLANS: Record<(typeof ARMS)[number], Plan[]> = {
      empathetic: ['oio', 'oio', 'oio', 'oio', 'oi', 'oi', 'o', 'o'].map((x) => plan('arm', x)),
      questioning: [...['oio', 'oio', 'oio', 'oi', 'oi', 'o'].map((x) => plan('arm', x)), plan('informational', 'oi'), plan('arm', '')],
      humour: [
        ...['oio', 'oi', 'o'].map((x) => plan('arm', x)),
        plan('informational', 'oio'),
        plan('empathetic', 'oio'),
        plan('empathetic', 'oi'),
        plan('arm', ''),
        plan('arm', ''),
      ],
    };
    let tr: { programId: string; lead: Who; a: Who; b: Who; ev: Who };
    let running: { id: string; name: string };
    let stopped: { id: string; name: string };

    const trialReport = async (who: Who, id: string) => {
      const res = await t.app.inject({ method: 'GET', url: `/v1/reports/trials/${id}`, headers: who.auth });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as TrialReport;
    };

    /** Reads the trial's two tables off the page and checks them, cell by cell, against the API's figures. */
    async function expectTrialMatchesApi(p: Page, api: TrialReport, analysis: 'itt' | 'pp') {
      const data = analysis === 'pp' ? api.perProtocol : api;
      const arms = await readTable(p, 'trial-arms-table');
      expect(arms.map((r) => r.group)).toEqual(data.arms.map((a) => a.arm));
      for (const [i, row] of data.arms.entries()) {
        expect(arms[i]!.label).toBe(i === 0 ? `${row.arm} (reference)` : row.arm);
        expect(arms[i]!.cells, `${analysis} arm ${row.arm}`).toEqual(expectedArmCells(row, analysis));
      }
      const comparisons = await readTable(p, 'trial-comparisons-table');
      expect(comparisons.map((r) => r.label)).toEqual(data.comparisons.map((c) => `${c.arm} vs ${c.vs}`));
      for (const [i, row] of data.comparisons.entries()) {
        expect(comparisons[i]!.cells, `${analysis} ${row.arm} vs ${row.vs}`).toEqual(expectedComparisonCells(row, data.arms));
      }
      expect(await p.locator('#trial-mdd').textContent()).toBe(mddSentence(data.minimumDetectableDiff, data.arms));
    }

    async function signIn(who: Who) {
      const p = await context.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.message));
      p.on('console', (m) => {
        if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      await p.goto(`${base}/reports`);
      await p.fill('#token', who.token);
      await p.click('#save-token');
      await p.locator('#signed-in').waitFor({ state: 'visible' });
      await expect.poll(() => p.locator('#program').inputValue()).toBe(tr.programId);
      await expect.poll(() => p.locator('#trial option').count()).toBe(2);
      return p;
    }

    async function showTrial(p: Page, id: string) {
      const before = (await p.locator('#trial-report').getAttribute('data-rendered')) ?? '0';
      await p.selectOption('#trial', id);
      await p.click('#show-trial');
      await p.locator(`#trial-report[data-rendered="${Number(before) + 1}"]`).waitFor({ state: 'visible' });
    }

    async function showApproach(p: Page) {
      const before = (await p.locator('#report').getAttribute('data-rendered')) ?? '0';
      await p.selectOption('#group-by', 'approach');
      await p.click('#show');
      await p.locator(`#report[data-rendered="${Number(before) + 1}"]`).waitFor({ state: 'visible' });
      return { programId: tr.programId, from: await p.inputValue('#from'), to: await p.inputValue('#to'), groupBy: 'approach' };
    }

    /** Nothing on the page is wider than the window: wide tables scroll inside their own box. */
    const pageFits = (p: Page) =>
      p.evaluate<{ page: number; viewport: number }>(`({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })`);

    beforeAll(async () => {
      tr = await cast(
        t,
        { lead: 'lead', a: { role: 'intervener', maxCaseload: 100 }, b: { role: 'intervener', maxCaseload: 100 }, ev: 'evaluator' },
        { minCellSize: 3, sustainedMinMessages: 3, sustainedMinInbound: 1 },
      );
      // A first trial with two cases, stopped: its arms are below minCellSize.
      stopped = await ok(t, tr.lead, 'POST', `/v1/programs/${tr.programId}/trials`, {
        name: 'Pilot',
        arms: ['empathetic', 'informational'],
      });
      for (let i = 0; i < 2; i++) {
        await activeCase(t, tr.lead, tr.programId, tr.a.id, { profile: profile('x'), flaggedAt: minutesAgo(700) });
      }
      await ok(t, tr.lead, 'POST', `/v1/trials/${stopped.id}/stop`);

      running = await ok(t, tr.lead, 'POST', `/v1/programs/${tr.programId}/trials`, {
        name: 'Opening approach',
        arms: [...ARMS],
        stratifyBy: ['riskLevel'],
      });
      // 24 cases in two strata of 12: two whole blocks of six per stratum, so eight cases per arm.
      const next: Record<string, number> = { empathetic: 0, questioning: 0, humour: 0 };
      for (let i = 0; i < 24; i++) {
        const who = i % 2 ? tr.a : tr.b;
        const c = await activeCase(t, tr.lead, tr.programId, who.id, {
          riskLevel: i % 2 ? 'high' : 'low',
          profile: profile('x'),
          flaggedAt: minutesAgo(600),
        });
        const arm = (c as unknown as { trial: { arm: (typeof ARMS)[number] } }).trial.arm;
        const step = PLANS[arm][next[arm]!++]!;
        for (const [k, d] of [...step.touches].entries()) {
          await ok(t, who, 'POST', `/v1/cases/${c.id}/touchpoints`, {
            direction: d === 'o' ? 'outbound' : 'inbound',
            channel: 'direct_message',
            occurredAt: minutesAgo(500 - 37 * (k + 1)),
            ...(k === 0 ? { approaches: [step.approach === 'arm' ? arm : step.approach] } : {}),
          });
        }
      }
      expect(next).toEqual({ empathetic: 8, questioning: 8, humour: 8 });
      // Bring the rollups current, so the page's requests do not race for the same pass.
      const warm = `/v1/reports/engagement?programId=${tr.programId}&from=2020-01-01&to=2030-01-01&groupBy=approach`;
      expect((await t.app.inject({ method: 'GET', url: warm, headers: tr.lead.auth })).statusCode).toBe(200);
    }, 180_000);

    it('a lead picks a trial and sees its arms, comparisons and detectable difference, intention to treat and per protocol', async () => {
      const p = await signIn(tr.lead);
      // Newest first: the running trial is picked, the stopped one is there too.
      expect(await p.locator('#trial option').allTextContents()).toEqual([
        `Opening approach (running since ${new Date().toISOString().slice(0, 10)})`,
        `Pilot (stopped ${new Date().toISOString().slice(0, 10)})`,
      ]);
      expect(await p.inputValue('#trial')).toBe(running.id);
      await showTrial(p, running.id);
      const api = await trialReport(tr.lead, running.id);
      // The test's own design, as the API counts it: nothing hidden intention to treat.
      expect(api.arms.map((a) => [a.arm, a.allocated, a.contacted, a.responded, a.sustained, a.suppressed])).toEqual([
        ['empathetic', 8, 8, 6, 4, false],
        ['questioning', 8, 7, 6, 3, false],
        ['humour', 8, 6, 5, 3, false],
      ]);
      expect(api.comparisons.every((c) => c.sustainedRateDiff && c.pValue != null && c.pValueAdjusted != null)).toBe(true);
      expect(api.minimumDetectableDiff).not.toBeNull();
      expect(await p.locator('#trial-report').getAttribute('data-analysis')).toBe('itt');
      expect(await p.locator('#analysis-itt').isChecked()).toBe(true);
      await expectTrialMatchesApi(p, api, 'itt');
      expect(await p.locator('#trial-arms-table .suppressed').count()).toBe(0);
      expect(await p.locator('#trial-title').textContent()).toBe('Opening approach');
      expect(await p.locator('#trial-status').textContent()).toMatch(
        /^Running since \d{4}-\d\d-\d\d \d\d:\d\d UTC · arms: empathetic, questioning, humour \(the first, empathetic, is the reference\) · allocated separately by risk level · figures as of /,
      );
      expect(await p.locator('#trial-arms-caption').textContent()).toBe('Opening approach: arms, intention to treat');
      expect(await p.locator('#trial-mdd').textContent()).toMatch(
        /^With these arm sizes the trial can detect a difference in sustained rate of about \d+ percentage points/,
      );
      await mkdir(OUTPUT_DIR, { recursive: true });
      await p.locator('#trials').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-trial.png') });
      expect(await seriousViolations(p)).toEqual([]);
      expect(await accessibilityViolations(p)).toEqual([]);

      // Per protocol: the toggle redraws both tables from the same report, and humour's small cells are marked, not blank.
      await p.getByLabel('Per protocol: only cases whose first message used their arm').check();
      await p.locator('#trial-report[data-analysis="pp"]').waitFor();
      const pp = api.perProtocol;
      expect(pp.arms.map((a) => [a.arm, a.allocated])).toEqual([
        ['empathetic', 8],
        ['questioning', 6],
        ['humour', 3],
      ]);
      expect(pp.arms.find((a) => a.arm === 'humour')).toMatchObject({ responded: null, sustained: null, suppressed: true });
      await expectTrialMatchesApi(p, api, 'pp');
      expect(await p.locator('#trial-arms-caption').textContent()).toBe('Opening approach: arms, per protocol');
      expect(await p.locator('#trial-arms-table thead th').allTextContents()).toEqual([
        'Arm',
        'Cases that used their arm',
        'Responded',
        'Sustained',
        'Response rate',
        'Sustained rate',
      ]);
      const humour = p.locator('#trial-arms-table tr[data-group="humour"] td[data-field="sustained"]');
      expect(await humour.textContent()).toBe(HIDDEN);
      expect(await humour.locator('.suppressed').getAttribute('title')).toMatch(/minimum cell size/);
      expect(await p.locator('#trial-comparisons-table tr[data-group="humour"] .suppressed').count()).toBeGreaterThan(0);
      await p.locator('#trials').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-trial-per-protocol.png') });
      expect(await seriousViolations(p)).toEqual([]);
      expect(await accessibilityViolations(p)).toEqual([]);
      // And back: the intention-to-treat figures again.
      await p.getByLabel('Intention to treat: every allocated case').check();
      await p.locator('#trial-report[data-analysis="itt"]').waitFor();
      await expectTrialMatchesApi(p, api, 'itt');

      // The stopped pilot: two cases, so every count is hidden and so is what it could detect.
      await showTrial(p, stopped.id);
      const pilot = await trialReport(tr.lead, stopped.id);
      expect(pilot.status).toBe('stopped');
      expect(pilot.arms.some((a) => a.suppressed)).toBe(true);
      await expectTrialMatchesApi(p, pilot, 'itt');
      expect(await p.locator('#trial-status').textContent()).toMatch(/^Ran from .+ UTC to .+ UTC · arms: empathetic, informational/);
      expect(await p.locator('#trial-arms-table .suppressed').count()).toBeGreaterThan(0);

      // Phone width: nothing wider than the window, the wide tables scroll in their own (focusable) box.
      await showTrial(p, running.id);
      await p.setViewportSize({ width: 390, height: 844 });
      // Chart.js redraws its canvases for the new width a frame or two later: wait for the page to settle.
      await expect
        .poll(async () => {
          const f = await pageFits(p);
          return f.page <= f.viewport ? 'fits' : JSON.stringify(f);
        })
        .toBe('fits');
      await p.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-trial-phone.png'), fullPage: true });
      await p.locator('#trial-report').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-trial-report-phone.png') });
      expect(await seriousViolations(p)).toEqual([]);
      await p.close();
      expect(pageErrors).toEqual([]);
      expect(cspViolations).toEqual([]);
    }, 90_000);

    it('shows the adjusted (Mantel-Haenszel) difference beside the crude one, with Holm-adjusted p-values', async () => {
      const p = await signIn(tr.lead);
      const q = await showApproach(p);
      const res = await t.app.inject({ method: 'GET', url: `/v1/reports/engagement?${new URLSearchParams(q)}`, headers: tr.lead.auth });
      const api = res.json() as Report;
      const groups = api.rows.filter((r) => r.group !== 'total');
      const comparison = await readTable(p, 'comparison-table');
      expect(comparison.map((r) => r.group)).toEqual(groups.map((r) => r.group));
      for (const [i, row] of groups.entries()) expect(comparison[i]!.cells, `row ${row.group}`).toEqual(expectedCells(row, 'comparison'));
      // The design gives empathetic 10 contacted cases and questioning 6, in both risk strata: adjusted figures exist.
      const adjusted = groups.filter((r) => (r['vsRest'] as { adjusted: unknown } | null)?.adjusted);
      expect(adjusted.map((r) => r.group)).toEqual(['empathetic', 'questioning']);
      for (const row of adjusted) {
        const vs = row['vsRest'] as { adjusted: { sustainedRateDiff: number; ci95: number[]; strata: number } };
        expect(vs.adjusted.strata).toBe(2);
        expect(await p.locator(`#comparison-table tr[data-group="${row.group}"] td[data-field="vsRest.adjusted"]`).textContent()).toBe(
          diffCi({ value: vs.adjusted.sustainedRateDiff, ci95: vs.adjusted.ci95 }),
        );
      }
      // humour's 3 contacted cases have 2 replies, informational has 2 cases: those rows are hidden, in words.
      for (const group of ['humour', 'informational']) {
        expect(groups.find((r) => r.group === group)).toMatchObject({ suppressed: true, vsRest: null });
        expect(await p.locator(`#comparison-table tr[data-group="${group}"] td[data-field="vsRest.adjusted"]`).textContent()).toBe(HIDDEN);
      }
      // The explanation says why the two differ, in plain words.
      expect(await p.locator('#comparison .explain').textContent()).toMatch(/used mostly on easy cases .*looks better than it is/);
      expect(await p.locator('#comparison .explain').textContent()).toContain('compares like with like');
      // Crude and adjusted side by side: adjacent columns.
      const fields = await p
        .locator('#comparison-table tbody tr')
        .first()
        .locator('td')
        .evaluateAll((tds) => tds.map((td) => (td as unknown as { dataset: { field: string } }).dataset.field));
      expect(fields.slice(0, 4)).toEqual(['vsRest.sustainedRateDiff', 'vsRest.pValue', 'vsRest.pValueAdjusted', 'vsRest.adjusted']);
      const wide = await p.evaluate<{ table: number; wrap: number }>(
        `(() => { const w = document.getElementById('comparison-table').parentElement; return { table: w.scrollWidth, wrap: w.clientWidth }; })()`,
      );
      await p.locator('#comparison').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-approach-adjusted.png') });
      expect(wide.table, JSON.stringify(wide)).toBeLessThanOrEqual(wide.wrap);
      expect(await seriousViolations(p)).toEqual([]);
      expect(await accessibilityViolations(p)).toEqual([]);

      await p.setViewportSize({ width: 390, height: 844 });
      // Chart.js redraws its canvases for the new width a frame or two later: wait for the page to settle.
      await expect
        .poll(async () => {
          const f = await pageFits(p);
          return f.page <= f.viewport ? 'fits' : JSON.stringify(f);
        })
        .toBe('fits');
      await p.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-approach-phone.png'), fullPage: true });
      await p.locator('#comparison').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-approach-adjusted-phone.png') });
      expect(await seriousViolations(p)).toEqual([]);
      await p.close();
      expect(pageErrors).toEqual([]);
    }, 90_000);

    it('an evaluator reads the same trial and engagement figures as the lead', async () => {
      const p = await signIn(tr.ev);
      expect(await p.locator('#who').textContent()).toMatch(/\(evaluator\)$/);
      // An evaluator may not read the program itself: the picker holds their own program, unnamed.
      expect(await p.locator('#program option').allTextContents()).toEqual(['Your program']);
      await showTrial(p, running.id);
      const api = await trialReport(tr.ev, running.id);
      expect(api.arms).toEqual((await trialReport(tr.lead, running.id)).arms);
      await expectTrialMatchesApi(p, api, 'itt');
      const q = await showApproach(p);
      const res = await t.app.inject({ method: 'GET', url: `/v1/reports/engagement?${new URLSearchParams(q)}`, headers: tr.ev.auth });
      expect(res.statusCode).toBe(200);
      const groups = (res.json() as Report).rows.filter((r) => r.group !== 'total');
      const comparison = await readTable(p, 'comparison-table');
      for (const [i, row] of groups.entries()) expect(comparison[i]!.cells, `row ${row.group}`).toEqual(expectedCells(row, 'comparison'));
      await p.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-evaluator.png'), fullPage: true });
      expect(await seriousViolations(p)).toEqual([]);
      expect(await accessibilityViolations(p)).toEqual([]);
      await p.close();
      expect(pageErrors).toEqual([]);
      expect(cspViolations).toEqual([]);
    }, 90_000);
  });
  describe('the welfare view (leads only)', () => {
    interface WelfareWeek {
      weekStart: string;
      hours: number;
      overCap: boolean;
    }
    interface WelfarePeriod {
      start: string;
      end: string;
      minutes: number;
      ended: boolean;
      short: boolean;
    }
    interface Tally {
      owed: number;
      done: number;
      onTime: number;
      pending: number;
      overdue: number;
    }
    interface WelfareReport {
      capHours: number;
      definition: Record<string, string | number>;
      interveners: {
        id: string;
        name: string;
        active: boolean;
        exposure: { weeks: WelfareWeek[]; overCapWeeks: number };
        debriefs: Tally;
        supervision: { periods: WelfarePeriod[]; shortPeriods: number };
      }[];
      team: {
        interveners: number;
        exposure: { weeks: { weekStart: string; hours: number; overCapInterveners: number }[]; overCapWeeks: number };
        debriefs: Tally;
        supervision: {
          periods: { start: string; end: string; minutes: number; ended: boolean; shortInterveners: number }[];
          shortPeriods: number;
        };
      };
    }
    let wf: { programId: string; lead: Who; ana: Who; ben: Who; ev: Who };
    const hoursAgo = (h: number) => minutesAgo(h * 60);
    const pageFits = (p: Page) =>
      p.evaluate<{ page: number; viewport: number }>(`({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })`);

    async function signIn(who: Who, requests: string[] = []) {
      const p = await context.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.message));
      p.on('console', (m) => {
        if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      p.on('request', (r) => requests.push(r.url()));
      await p.goto(`${base}/reports`);
      await p.fill('#token', who.token);
      await p.click('#save-token');
      await p.locator('#signed-in').waitFor({ state: 'visible' });
      await expect.poll(() => p.locator('#program').inputValue()).toBe(wf.programId);
      return p;
    }

    /** The page's display rules: hours to 2 decimals, counts as integers, each flag said in words after its number. */
    function expectedWelfare(api: WelfareReport) {
      const count = (n: number) => n.toLocaleString('en-US');
      const day = (iso: string) => iso.slice(0, 10);
      const supervision = (x: { minutes: number; ended: boolean; short?: boolean }) =>
        `${count(x.minutes)}${!x.ended ? ' so far' : x.short ? ' short' : ''}`;
      const rowsOf = (cells: (r: WelfareReport['interveners'][number]) => Record<string, string>) =>
        api.interveners.map((r) => ({ group: r.id, label: r.active ? r.name : `${r.name} (left)`, cells: cells(r) }));
      const weekCells = <T extends { weekStart: string }>(weeks: T[], show: (x: T) => string) =>
        Object.fromEntries(weeks.map((x) => [day(x.weekStart), show(x)]));
      const periodCells = <T>(periods: T[], show: (x: T) => string) => Object.fromEntries(periods.map((x, i) => [`period-${i}`, show(x)]));
      const tally = (d: Tally) => ({
        owed: count(d.owed),
        done: count(d.done),
        onTime: count(d.onTime),
        pending: count(d.pending),
        overdue: count(d.overdue),
      });
      return {
        exposure: [
          ...rowsOf((r) => ({
            ...weekCells(r.exposure.weeks, (x) => `${x.hours.toFixed(2)}${x.overCap ? ' at or over cap' : ''}`),
            overCapWeeks: count(r.exposure.overCapWeeks),
          })),
          {
            group: 'team',
            label: 'Team (hours)',
            cells: {
              ...weekCells(api.team.exposure.weeks, (x) => x.hours.toFixed(2)),
              overCapWeeks: count(api.team.exposure.overCapWeeks),
            },
          },
          {
            group: 'team-over-cap',
            label: 'Interveners at or over cap',
            cells: { ...weekCells(api.team.exposure.weeks, (x) => count(x.overCapInterveners)), overCapWeeks: '—' },
          },
        ],
        debriefs: [...rowsOf((r) => tally(r.debriefs)), { group: 'team', label: 'Team', cells: tally(api.team.debriefs) }],
        supervision: [
          ...rowsOf((r) => ({ ...periodCells(r.supervision.periods, supervision), shortPeriods: count(r.supervision.shortPeriods) })),
          {
            group: 'team',
            label: 'Team (minutes)',
            cells: {
              ...periodCells(api.team.supervision.periods, (x) => supervision({ minutes: x.minutes, ended: x.ended })),
              shortPeriods: count(api.team.supervision.shortPeriods),
            },
          },
          {
            group: 'team-short',
            label: 'Interveners short',
            cells: {
              ...periodCells(api.team.supervision.periods, (x) => `${count(x.shortInterveners)}${x.ended ? '' : ' so far'}`),
              shortPeriods: '—',
            },
          },
        ],
      };
    }

    beforeAll(async () => {
      wf = await cast(
        t,
        { lead: 'lead', ana: 'intervener', ben: 'intervener', ev: 'evaluator' },
        { weeklyExposureCap: 'PT1H', supervisionEvery: 'P1W', supervisionMinMinutes: 90, debriefWithin: 'PT48H' },
      );
      const a = await activeCase(t, wf.lead, wf.programId, wf.ana.id, { profile: profile('x'), flaggedAt: minutesAgo(600) });
      const b = await activeCase(t, wf.lead, wf.programId, wf.ben.id, { profile: profile('x'), flaggedAt: minutesAgo(600) });
      // Ana: 45 minutes on a distressing touchpoint and 30 logged (over the one-hour cap this week), 20 a week ago; a debrief owed.
      await ok(t, wf.ana, 'POST', `/v1/cases/${a.id}/touchpoints`, {
        direction: 'outbound',
        channel: 'direct_message',
        occurredAt: hoursAgo(2),
        minutesSpent: 45,
        distressing: true,
      });
      await ok(t, wf.ana, 'POST', '/v1/me/time', { at: hoursAgo(1), minutes: 30, activity: 'reading' });
      await ok(t, wf.ana, 'POST', '/v1/me/time', { at: hoursAgo(8 * 24), minutes: 20, activity: 'research' });
      // Ben: 90 minutes two weeks ago; a hostile reply owes a debrief, which the lead holds at once (on time).
      await ok(t, wf.ben, 'POST', '/v1/me/time', { at: hoursAgo(15 * 24), minutes: 90, activity: 'messaging' });
      await ok(t, wf.ben, 'POST', `/v1/cases/${b.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'direct_message',
        occurredAt: minutesAgo(30),
        sentiment: 'hostile',
      });
      const pending = await ok<{ items: { id: string; staffId: string }[] }>(
        t,
        wf.lead,
        'GET',
        `/v1/debriefs?status=pending&staffId=${wf.ben.id}`,
      );
      await ok(t, wf.lead, 'POST', `/v1/debriefs/${pending.items[0]!.id}/complete`, {});
      // Supervision: Ana 60 minutes this week (short so far), Ben 120 nine days ago.
      await ok(t, wf.lead, 'POST', `/v1/staff/${wf.ana.id}/supervision-sessions`, { at: hoursAgo(1), minutes: 60, format: 'individual' });
      await ok(t, wf.lead, 'POST', `/v1/staff/${wf.ben.id}/supervision-sessions`, { at: hoursAgo(9 * 24), minutes: 120, format: 'group' });
    }, 60_000);

    it('a lead sees exposure per week against the cap, debriefs and supervision, each figure as the API has it', async () => {
      const p = await signIn(wf.lead);
      await p.locator('#welfare').waitFor({ state: 'visible' });
      expect(await p.locator('#welfare-report').isHidden()).toBe(true);
      await p.click('#show-welfare');
      await p.locator('#welfare-report[data-rendered="1"]').waitFor({ state: 'visible' });
      const q = { programId: wf.programId, from: await p.inputValue('#welfare-from'), to: await p.inputValue('#welfare-to') };
      const res = await t.app.inject({ method: 'GET', url: `/v1/reports/welfare?${new URLSearchParams(q)}`, headers: wf.lead.auth });
      expect(res.statusCode, res.body).toBe(200);
      const api = res.json() as WelfareReport;
      // What the test made, as the API counts it (independent of the day the test runs on).
      expect(api.team.interveners).toBe(2);
      expect(api.team.debriefs).toEqual({ owed: 2, done: 1, onTime: 1, pending: 1, overdue: 0 });
      expect(api.capHours).toBe(1);
      const ana = api.interveners.find((r) => r.id === wf.ana.id)!;
      expect(ana.exposure.weeks.at(-1)!.overCap || ana.exposure.weeks.at(-2)!.overCap).toBe(true);
      // The default window: the last eight whole UTC weeks, this one included.
      expect(api.team.exposure.weeks.length).toBe(8);
      expect(new Date(q.from).getUTCDay()).toBe(1);

      const expected = expectedWelfare(api);
      expect(await readTable(p, 'welfare-exposure-table')).toEqual(expected.exposure);
      expect(await readTable(p, 'welfare-debriefs-table')).toEqual(expected.debriefs);
      expect(await readTable(p, 'welfare-supervision-table')).toEqual(expected.supervision);
      expect(await p.locator('#welfare-exposure-table thead th').allTextContents()).toEqual([
        'Intervener',
        ...api.team.exposure.weeks.map((x) => `Week of ${x.weekStart.slice(0, 10)}`),
        'Weeks at or over cap',
      ]);
      // Supervision periods by their days: P1W is the ISO week, Monday to Sunday.
      const lastDay = (iso: string) => new Date(Date.parse(iso) - 86_400_000).toISOString().slice(0, 10);
      expect(await p.locator('#welfare-supervision-table thead th').allTextContents()).toEqual([
        'Intervener',
        ...api.team.supervision.periods.map((x) => `${x.start.slice(0, 10)} to ${lastDay(x.end)}`),
        'Periods ended short',
      ]);
      expect(api.team.supervision.periods.map((x) => x.start)).toEqual(api.team.exposure.weeks.map((x) => x.weekStart));
      expect(await p.locator('#welfare-debriefs-table thead th').allTextContents()).toEqual([
        'Intervener',
        'Owed',
        'Done',
        'Done on time',
        'Still pending',
        'Overdue now',
      ]);
      // Flags are words with an explanation, not a colour alone.
      const over = p.locator('#welfare-exposure-table .flag').first();
      expect(await over.textContent()).toBe('at or over cap');
      expect(await over.getAttribute('title')).toBe('At or over the weekly cap of 1.00 hours');
      expect(await p.locator('#welfare-summary').textContent()).toMatch(
        /^Figures as of .+ UTC for 2 interveners\. Exposure cap: 1\.00 hours a week each\. Supervision: at least 90 minutes every week\.$/,
      );
      expect(await p.locator('#welfare-definition dt[data-key="suppression"] + dd').textContent()).toMatch(/^None/);
      // Every rule the API names is on the page, under the fold.
      expect(
        await p
          .locator('#welfare-definition dt')
          .evaluateAll((dts) => dts.map((d) => (d as unknown as { dataset: { key: string } }).dataset.key)),
      ).toEqual(Object.keys(api.definition));
      await mkdir(OUTPUT_DIR, { recursive: true });
      await p.locator('.welfare-definition summary').click();
      await p.locator('#welfare-definition').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-welfare-definition.png') });
      await p.locator('.welfare-definition summary').click();

      // Eight weeks with their flags fit a laptop screen without scrolling sideways.
      const wide = await p.evaluate<{ table: number; wrap: number }>(
        `(() => { const w = document.getElementById('welfare-exposure-table').parentElement; return { table: w.scrollWidth, wrap: w.clientWidth }; })()`,
      );
      expect(wide.table, JSON.stringify(wide)).toBeLessThanOrEqual(wide.wrap);
      await mkdir(OUTPUT_DIR, { recursive: true });
      await p.locator('#welfare').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-welfare.png') });
      expect(await seriousViolations(p)).toEqual([]);
      expect(await accessibilityViolations(p)).toEqual([]);

      // Phone width: nothing wider than the window; the week columns scroll inside their own box.
      await p.setViewportSize({ width: 390, height: 844 });
      await expect
        .poll(async () => {
          const f = await pageFits(p);
          return f.page <= f.viewport ? 'fits' : JSON.stringify(f);
        })
        .toBe('fits');
      await p.locator('#welfare').screenshot({ path: path.join(OUTPUT_DIR, 'report-page-welfare-phone.png') });
      expect(await seriousViolations(p)).toEqual([]);
      expect(await accessibilityViolations(p)).toEqual([]);
      await p.close();
      expect(pageErrors).toEqual([]);
      expect(cspViolations).toEqual([]);
    }, 90_000);

    it('an evaluator has no welfare view and never asks for it', async () => {
      const requests: string[] = [];
      const p = await signIn(wf.ev, requests);
      expect(await p.locator('#who').textContent()).toMatch(/\(evaluator\)$/);
      await p.locator('#trials').waitFor({ state: 'visible' });
      expect(await p.locator('#welfare').isHidden()).toBe(true);
      expect(await p.getByRole('heading', { name: 'Team welfare' }).count()).toBe(0);
      expect(requests.filter((u) => u.includes('/v1/reports/welfare'))).toEqual([]);
      // And the API agrees: to an evaluator there is no such program.
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/reports/welfare?programId=${wf.programId}&from=2026-01-01&to=2026-02-01`,
        headers: wf.ev.auth,
      });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('program.not_found');
      await p.screenshot({ path: path.join(OUTPUT_DIR, 'report-page-welfare-evaluator.png'), fullPage: true });
      expect(await seriousViolations(p)).toEqual([]);
      await p.close();
      expect(pageErrors).toEqual([]);
    }, 60_000);
  });
});
