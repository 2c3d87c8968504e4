import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import type { Who } from './helpers/cast.js';

/** The README block that follows the walkthrough marker, as a newcomer would paste it. */
function walkthrough(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const marker = readme.indexOf('<!-- walkthrough:');
  if (marker < 0) throw new Error('README.md has no <!-- walkthrough: --> marker');
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (!m) throw new Error('no ```sh block after the walkthrough marker');
  return m[1]!;
}

let t: TestApp;
let base: string;
let admin: Who;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.staff('admin', null);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening on TCP');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await t?.close();
});

describe('the README’s working day', () => {
  it('runs as written, call by call, against a server (bash, curl, jq)', async () => {
    const script = `set -euo pipefail\n${walkthrough()}`;
    // Asynchronously: the server answering the script runs in this very process.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('bash', ['-c', script], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', BASE: base, ADMIN: admin.token },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    expect(run.status, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
    const lines = run.stdout.trim().split('\n');
    // What the comments in the README say each step prints.
    for (const expected of ['accepted', 'approved', 'responded', 'pending', '["case_assigned"]', 'acknowledged']) {
      expect(lines, `${expected} in:\n${run.stdout}`).toContain(expected);
    }
    expect(run.stdout).toContain('"name":"Sam","role":"intervener"');
    // The first assignment allocated one of the trial's arms; the trial report hides arms of one case.
    expect(run.stdout).toMatch(/\{"status":"active","arm":"(empathetic|questioning)"\}/);
    expect(run.stdout).toMatch(
      /\{"analysis":"intention_to_treat","arms":\[\{"arm":"empathetic","allocated":(null|0)\},\{"arm":"questioning","allocated":(null|0)\}\]\}/,
    );
    expect(run.stdout).toContain('"platform":"x","handle":"drifting_dan"');
    expect(run.stdout).toMatch(/\{"group":"[0-9a-f-]{36}","name":"Sam",/);
    expect(lines.at(-5)).toMatch(/^group,flagged,accepted,contacted,/);
    expect(lines.at(-4)).toMatch(/^total,/);
    // The last step prints the tokens to sign in to the workbench with: each one is that person's.
    const signIns = lines.slice(-3).map((l) => /^(\w+) \((\w+)\)\s+(ovt_\S+)$/.exec(l));
    expect(signIns.map((m) => m?.slice(1, 3))).toEqual([
      ['Sam', 'intervener'],
      ['Lee', 'lead'],
      ['Ana', 'analyst'],
    ]);
    for (const m of signIns) {
      const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${m![3]}` } });
      expect(await me.json()).toMatchObject({ name: m![1], role: m![2] });
    }
    expect(run.stderr).toBe('');
  });
});
