import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_DIR, CLIENT_SCHEMA_PATH, DOCUMENT_PATH, generateClientSchema, ROOT } from '../scripts/openapi.js';
import { createTestApp, type TestApp } from './helpers/app.js';

/**
 * The clients shipped in clients/ against a real server on a random port: the typed TypeScript
 * client's example runs and typechecks (with the client's own TypeScript 5), its generated types
 * are current, and every request and assertion of the Bruno collection passes.
 */

const exec = promisify(execFile);
const BRUNO_DIR = path.join(ROOT, 'clients', 'bruno');

/** Runs a command to its end (never blocking this process: the server answers from it). */
async function run(file: string, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  try {
    const { stdout, stderr } = await exec(file, args, {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      timeout: 180_000,
      maxBuffer: 32 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

let t: TestApp;
let baseUrl: string;
let adminToken: string;
let scratch: string;

/** Not a skip: CI installs the client package (.ci/run), and so must a developer; each test fails saying so. */
function requireClientInstalled() {
  if (!existsSync(path.join(CLIENT_DIR, 'node_modules', 'openapi-fetch'))) {
    throw new Error('clients/typescript has no node_modules: run `npm ci --prefix clients/typescript`, then run this test again.');
  }
}

beforeAll(async () => {
  t = await createTestApp();
  adminToken = (await t.staff('admin', null)).token;
  baseUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
  scratch = mkdtempSync(path.join(tmpdir(), 'overture-clients-'));
});
afterAll(async () => {
  await t?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the TypeScript client (clients/typescript)', () => {
  it('runs the first-five-minutes example against the server', async () => {
    requireClientInstalled();
    const result = await run(process.execPath, ['--import', 'tsx', path.join(CLIENT_DIR, 'examples', 'first-five-minutes.ts')], {
      cwd: ROOT,
      env: { OVERTURE_URL: baseUrl, OVERTURE_ADMIN_TOKEN: adminToken },
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^signed in as .* \(admin\)$/m);
    expect(result.stdout).toMatch(/a retry with the same key answered the same one/);
    expect(result.stdout).toMatch(/^caseload +1 active case\(s\)$/m);
  }, 120_000);

  it('typechecks with its own TypeScript 5', async () => {
    requireClientInstalled();
    const tsc = path.join(CLIENT_DIR, 'node_modules', '.bin', 'tsc');
    const version = await run(tsc, ['--version'], { cwd: CLIENT_DIR });
    expect(version.stdout).toMatch(/^Version 5\./);
    const result = await run(tsc, ['-p', 'tsconfig.json', '--noEmit'], { cwd: CLIENT_DIR });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  }, 120_000);

  it('has src/schema.d.ts generated from the committed openapi.json (run `npm run openapi` when this fails)', async () => {
    requireClientInstalled();
    const fresh = path.join(scratch, 'schema.d.ts');
    await generateClientSchema(DOCUMENT_PATH, fresh);
    const stale = readFileSync(fresh, 'utf8') !== readFileSync(CLIENT_SCHEMA_PATH, 'utf8');
    expect(stale, 'clients/typescript/src/schema.d.ts is stale: run `npm run openapi` and commit it').toBe(false);
  }, 60_000);
});

interface BrunoReport {
  summary: {
    totalRequests: number;
    passedRequests: number;
    failedRequests: number;
    totalAssertions: number;
    failedAssertions: number;
    totalTests: number;
    failedTests: number;
  };
  results: {
    test: { filename: string };
    request: { method: string; url: string };
    response: { status: number };
    error?: string | null;
    assertionResults?: { lhsExpr: string; rhsExpr: string; status: string; error?: string }[];
    testResults?: { description: string; status: string; error?: string }[];
  }[];
}

describe('the Bruno collection (clients/bruno)', () => {
  it('passes every request and assertion with the Bruno CLI', async () => {
    const reportPath = path.join(scratch, 'bruno.json');
    const result = await run(
      path.join(ROOT, 'node_modules', '.bin', 'bru'),
      [
        'run',
        '-r',
        '--env',
        'local',
        '--env-var',
        `baseUrl=${baseUrl}`,
        '--env-var',
        `adminToken=${adminToken}`,
        '--reporter-json',
        reportPath,
        '--noproxy',
      ],
      { cwd: BRUNO_DIR },
    );
    expect(existsSync(reportPath), `${result.stdout}\n${result.stderr}`).toBe(true);
    const [report] = JSON.parse(readFileSync(reportPath, 'utf8')) as BrunoReport[];
    const failures = report!.results.flatMap((r) => [
      ...(r.error ? [`${r.test.filename}: ${r.error}`] : []),
      ...(r.assertionResults ?? [])
        .filter((a) => a.status !== 'pass')
        .map((a) => `${r.test.filename}: assert ${a.lhsExpr} ${a.rhsExpr}: ${a.error}`),
      ...(r.testResults ?? []).filter((x) => x.status !== 'pass').map((x) => `${r.test.filename}: test "${x.description}": ${x.error}`),
    ]);
    expect(failures).toEqual([]);
    expect(result.code, result.stdout).toBe(0);

    // Every request file ran, in order, and each one checked something.
    const files = ['first-five-minutes', 'intervener-day'].flatMap((dir) =>
      readdirSync(path.join(BRUNO_DIR, dir))
        .filter((f) => f.endsWith('.bru') && f !== 'folder.bru')
        .sort()
        .map((f) => path.join(dir, f)),
    );
    expect(report!.results.map((r) => r.test.filename)).toEqual(files);
    expect(
      report!.results.filter((r) => (r.assertionResults ?? []).length + (r.testResults ?? []).length === 0).map((r) => r.test.filename),
    ).toEqual([]);
    expect(report!.summary).toMatchObject({ totalRequests: files.length, failedRequests: 0, failedAssertions: 0, failedTests: 0 });
  }, 180_000);
});
