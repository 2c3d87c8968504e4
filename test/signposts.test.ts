import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCKS } from '../src/db/locks.js';

const root = path.resolve(import.meta.dirname, '..');
function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && ext.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}
const code = [...filesUnder('src', /\.ts$/), ...filesUnder('workers', /\.ts$/)];
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const where = (files: string[], pattern: RegExp) => files.filter((f) => pattern.test(read(f)));

describe('one registry of advisory locks', () => {
  it('gives every lock its own number', () => {
    const numbers = Object.values(LOCKS);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('lists every number the migrations lock on', () => {
    const used = filesUnder('migrations', /\.sql$/).flatMap((f) =>
      [...read(f).matchAll(/pg_advisory_(?:xact_)?lock\((\d+)\)/g)].map((m) => Number(m[1])),
    );
    expect(used.length).toBeGreaterThan(0);
    for (const n of used) expect(Object.values(LOCKS)).toContain(n);
  });

  it('leaves no advisory lock outside src/db/locks.ts but the migrator, which passes its number as a parameter', () => {
    expect(where(code, /pg_advisory/)).toEqual(expect.arrayContaining(['src/db/locks.ts']));
    expect(where(code, /pg_advisory/).filter((f) => f !== 'src/db/locks.ts' && f !== 'src/db/migrate.ts')).toEqual([]);
    expect(where(code, /pg_advisory_\w*lock\(\d/)).toEqual([]);
  });
});

describe('process composition', () => {
  it('is the only place in src/ that imports workers/, so src/ and workers/ form no cycle', () => {
    expect(where(filesUnder('src', /\.ts$/), /(from|import\()\s*'(\.\.\/)+workers\//)).toEqual(['src/compose.ts']);
  });
});

describe('program settings', () => {
  it('are read from the programs table only in src/domain/programs/', () => {
    const outside = code.filter((f) => !f.startsWith('src/domain/programs/') && !f.startsWith('src/db/schema/'));
    expect(where(outside, /programs\.settings|select settings from programs|settings\s*->>/)).toEqual([]);
  });
});

describe('the domain vocabulary', () => {
  it('is imported from src/domain/vocabulary.ts, not from the db schema', () => {
    expect(
      where([...code, ...filesUnder('test', /\.ts$/)], /from '[./]*(src\/)?db\/schema\/enums\.js'/).filter(
        (f) => !f.startsWith('src/db/schema/'),
      ),
    ).toEqual([]);
  });
});
