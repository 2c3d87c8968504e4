import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { LOCKS } from '../src/db/locks.js';
import * as schema from '../src/db/schema/index.js';

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

describe('table ownership', () => {
  // Each table's writers, found in the code: builder calls on its drizzle table and SQL text naming it.
  const tables = Object.entries(schema).flatMap(([key, value]) => (is(value, PgTable) ? [{ key, name: getTableConfig(value).name }] : []));
  function writersOf(t: { key: string; name: string }): string[] {
    const builder = new RegExp(`\\.(insert|update|delete)\\(\\s*(schema\\.)?${t.key}\\s*\\)`);
    const text = new RegExp(`\\b(insert\\s+into|update|delete\\s+from)\\s+"?${t.name}"?\\s`, 'i');
    return code.filter((f) => !f.startsWith('src/db/schema/') && (builder.test(read(f)) || text.test(read(f))));
  }
  /** Stores that are not called store.ts, with why. */
  const NAMED_STORES: Record<string, string> = {
    'src/domain/audit/log.ts': 'the audit chain: appendAudit and its canonical form belong together',
    'src/domain/jobs/runs.ts': 'job_runs only',
    'src/domain/reports/rollup.ts': 'the engagement rollup, the reports aggregate’s store',
    'src/db/data-migrations.ts': 'the data-migration ledger, written by the migrator',
    'src/domain/reports/snapshot-store.ts': 'report_snapshots only: the report-snapshot hash chain',
  };

  it('finds the tables and their writers', () => {
    expect(tables.length).toBeGreaterThan(15);
    expect(writersOf({ key: 'followUps', name: 'follow_ups' })).toEqual(['src/domain/followups/store.ts']);
  });

  it('gives every table exactly one writing file, and that file is a store', () => {
    const owners = Object.fromEntries(tables.map((t) => [t.name, writersOf(t)]));
    for (const [table, files] of Object.entries(owners)) {
      expect.soft(files.length, `${table} is written from ${files.join(', ') || 'nowhere'}`).toBeLessThanOrEqual(1);
      for (const f of files) expect.soft(f.endsWith('/store.ts') || f in NAMED_STORES, `${table} is written from ${f}`).toBe(true);
    }
  });

  it('keeps the database out of src/http, workers/ and the CLI: no schema, no drizzle, no SQL text', () => {
    const edges = code.filter((f) => f.startsWith('src/http/') || f.startsWith('workers/') || f === 'src/cli.ts');
    expect(edges.length).toBeGreaterThan(20);
    expect(where(edges, /from '[./]*db\/schema|from 'drizzle-orm|\.\$client|\bselect\s+[\w*"]+\s+from\b|\binsert\s+into\b/i)).toEqual([]);
  });

  it('lets no route or processor open a transaction', () => {
    const edges = code.filter((f) => f.startsWith('src/http/') || f.startsWith('workers/'));
    expect(where(edges, /\.transaction\(/)).toEqual([]);
  });
});

describe('the test fixtures', () => {
  it('are one system: no test file redeclares who a staff member is', () => {
    const tests = filesUnder('test', /\.ts$/).filter((f) => f !== 'test/helpers/cast.ts');
    expect(where(tests, /Awaited<ReturnType<TestApp\['staff'\]>>|^type Who\b|^export type Who =/m)).toEqual([]);
  });
});
