import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { checkRedisPolicy } from '../src/queue/system.js';
import { freePort } from '../src/db/embedded.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

describe.runIf(hasRedisServer)('Redis eviction policy', () => {
  let child: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'],
      {
        stdio: 'ignore',
      },
    );
    await new Promise((r) => setTimeout(r, 300));
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('warns loudly when Redis may evict jobs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    expect(await checkRedisPolicy(`redis://127.0.0.1:${port}`, logger)).toBe('allkeys-lru');
    expect(lines.join('')).toContain('noeviction');
  });
});
