import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The real `npm start` path: embedded PostgreSQL, migrations, API and workers in one process. */
describe('overture start on the embedded default', () => {
  let dataDir: string;
  const env = () => ({
    ...process.env,
    OVERTURE_DATA_DIR: dataDir,
    PORT: '0',
    DATABASE_URL: '',
    REDIS_URL: '',
    OVERTURE_SECRET: '',
    LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'overture-smoke-'));
    await chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  function startService(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /Overture is up: (http:\/\/[^\s]+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve({ child, url: m[1]!, output: () => output });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });
  }

  async function stop(child: ChildProcess): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    return { code: await exited, ms: Date.now() - started };
  }

  it('serves readyz and the OpenAPI document, stops cleanly, and keeps its data', async () => {
    const first = await startService();
    const ready = await fetch(`${first.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', queue: { backend: 'postgres', state: 'ok' } });
    expect((await fetch(`${first.url}/openapi.json`)).status).toBe(200);
    expect(first.output()).toContain('/docs');
    expect(first.output()).toContain('token create --admin');

    // The CLI shares the running cluster instead of starting a second one.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'token', 'create', '--admin'], {
      env: env(),
      encoding: 'utf8',
    });
    expect(cli.status).toBe(0);
    const token = /token (ovt_\S+)/.exec(cli.stdout)![1]!;
    const me = await fetch(`${first.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(first.output()).not.toContain(token);

    const stopped = await stop(first.child);
    // The service's own account of its shutdown, should it not be clean.
    expect(stopped.code, first.output().split('\n').slice(-15).join('\n')).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect(first.output()).toContain('stopped cleanly');

    const second = await startService();
    const again = await fetch(`${second.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect((await stop(second.child)).code).toBe(0);
  }, 120_000);
});
