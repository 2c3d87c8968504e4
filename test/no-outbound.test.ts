import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile, scanNoContact } from '../src/domain/reminders/scan.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { cast } from './helpers/cast.js';
import { activeCase, ok } from './helpers/story.js';
import { sleep } from './helpers/workers.js';

/** The one module allowed to make outbound HTTP: the signed staff webhook. */
const WEBHOOK_MODULE = path.join('src', 'domain', 'notifications', 'webhook.ts');
/** Browser code served to staff, calling back to this server only. */
const SAME_ORIGIN_PAGES = [path.join('src', 'http', 'plugins', 'queue-board.ts')];
/** `overture health` probes this service's own /readyz on its listen address, nobody else. */
const SELF_PROBES = [path.join('src', 'cli.ts')];
const OUTBOUND =
  /\bfetch\s*\(|\bhttps?\.(request|get)\s*\(|from ['"](undici|axios|got|node-fetch|superagent)['"]|\bnew\s+WebSocket\s*\(|\bnet\.connect\s*\(|XMLHttpRequest/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('Overture never contacts anyone', () => {
  it('no module but the staff webhook makes outbound requests', () => {
    const offenders = [...files('src'), ...files('workers')]
      .filter((f) => f !== WEBHOOK_MODULE && !SAME_ORIGIN_PAGES.includes(f) && !SELF_PROBES.includes(f))
      .filter((f) =>
        OUTBOUND.test(
          readFileSync(f, 'utf8')
            .replace(/\/\*[\s\S]*?\*\//g, '')
            .replace(/\/\/.*$/gm, ''),
        ),
      );
    // The pages' browser code (the report page, the workbench) talks to this server only: no absolute or protocol-relative URL.
    const pages = readdirSync(path.join('src', 'http', 'pages'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
    expect(pages).toContain(path.join('src', 'http', 'pages', 'reports.js'));
    // Absolute URLs the workbench builds but never requests: the public profile's address, a link
    // the person opens in a new tab to write there, and a pasted profile address being parsed.
    const linksNotRequests: Record<string, RegExp> = {
      [path.join('src', 'http', 'pages', 'app', 'dom.js')]: /const PROFILE_URL = \{[\s\S]*?\n\};/,
      [path.join('src', 'http', 'pages', 'app', 'triage.js')]: /`https:\/\/\$\{text\}`|https:\/\/x\.com\/name/g,
    };
    for (const page of pages) {
      let text = readFileSync(page, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const allowed = linksNotRequests[page];
      if (allowed) {
        expect(text, page).toMatch(allowed);
        text = text.replace(allowed, '');
      }
      expect(text, page).not.toMatch(
        /['"`](https?:)?\/\/|sendBeacon|new WebSocket|XMLHttpRequest|EventSource|<script[^>]+src=["']?(https?:)?\/\//,
      );
    }
    // The workbench's one fetch is in api.js, and api.js sends only paths under /v1/.
    const appDir = path.join('src', 'http', 'pages', 'app');
    expect(pages.filter((p) => p.startsWith(appDir) && /\bfetch\(/.test(readFileSync(p, 'utf8')))).toEqual([path.join(appDir, 'api.js')]);
    const api = readFileSync(path.join(appDir, 'api.js'), 'utf8');
    expect([...api.matchAll(/\bfetch\(([^,)]+)/g)].map((m) => m[1]!.trim())).toEqual(['path']);
    expect(api).toContain("if (!path.startsWith('/v1/')) throw");
    for (const page of SAME_ORIGIN_PAGES) {
      // Its only fetch is to a relative path on this server.
      const targets = [...readFileSync(page, 'utf8').matchAll(/fetch\(([^,)]+)/g)].map((m) => m[1]!.trim());
      expect(targets.every((t) => /^['`]\$\{BOARD_PATH\}|^'\//.test(t))).toBe(true);
    }
    for (const file of SELF_PROBES) {
      const text = readFileSync(file, 'utf8');
      expect(
        [...text.matchAll(/fetch\(([^,)]+)/g)].map((m) => m[1]!.trim()),
        file,
      ).toEqual(['url']);
      expect(text, file).toContain('const url = `http://${');
      // biome-ignore lint/suspicious/noTemplateCurlyInString: as above
      expect(text, file).toContain(':${config.port}/readyz`;');
      expect(text.replace(/fetch\(url/, ''), file).not.toMatch(OUTBOUND);
    }
    expect(offenders).toEqual([]);
    expect(readFileSync(WEBHOOK_MODULE, 'utf8')).toMatch(/\bfetch\b/);
  });

  describe('at run time', () => {
    let t: TestApp;
    const calls: string[] = [];
    const originals = { fetch: globalThis.fetch, httpRequest: http.request, httpsRequest: https.request };
    beforeAll(async () => {
      t = await createTestApp();
      globalThis.fetch = (async (input: unknown) => {
        calls.push(`fetch ${String(input)}`);
        throw new Error('outbound request during a no-webhook story');
      }) as typeof fetch;
      (http as { request: unknown }).request = (...args: unknown[]) => {
        calls.push(`http ${JSON.stringify(args[0]).slice(0, 80)}`);
        return (originals.httpRequest as (...a: unknown[]) => unknown)(...args);
      };
      (https as { request: unknown }).request = (...args: unknown[]) => {
        calls.push(`https ${JSON.stringify(args[0]).slice(0, 80)}`);
        return (originals.httpsRequest as (...a: unknown[]) => unknown)(...args);
      };
    });
    afterAll(async () => {
      globalThis.fetch = originals.fetch;
      (http as { request: unknown }).request = originals.httpRequest;
      (https as { request: unknown }).request = originals.httpsRequest;
      await t.close();
    });

    it('a whole case story with reminders makes no outbound request', async () => {
      const {
        programId: p,
        lead,
        sam,
      } = await cast(
        t,
        { lead: 'lead', sam: 'intervener' },
        { followUpAfter: 'PT1S', overdueGrace: 'PT1S', responseSla: 'PT1S', noContactAlertAfter: 'PT1S' },
      );
      const c = await activeCase(t, lead, p, sam.id);
      await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'outbound',
        channel: 'paid_message',
        occurredAt: new Date().toISOString(),
      });
      await ok(t, sam, 'POST', `/v1/cases/${c.id}/touchpoints`, {
        direction: 'inbound',
        channel: 'paid_message',
        occurredAt: new Date().toISOString(),
      });
      await sleep(2_100);
      const r = await reconcile(t.db.db, t.clock);
      await scanNoContact(t.db.db, t.clock);
      expect(r.followUpsOverdue + r.followUpsDue + r.responsesOverdue).toBeGreaterThan(0);
      expect(calls).toEqual([]);
    });
  });
});
