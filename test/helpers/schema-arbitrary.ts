import fc from 'fast-check';

/** The JSON Schema subset zod 4 emits (as served in /openapi.json). */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  default?: unknown;
}

/** Strings that have broken parsers, databases and date libraries before. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '../../../../etc/passwd',
  "'; drop table cases; --",
  '" or 1=1 --',
  '<script>alert(1)</script>',
  '%00',
  '%',
  '\uFEFF',
  '\u202Eevil',
  '\uD800',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍👩‍👧‍👦',
  'Ω≈ç√∫',
  '2024-02-30T00:00:00Z',
  '2024-13-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00Z',
  '2024-01-01T00:00:00+25:00',
  '2024-01-01',
  'P0D',
  'PT0S',
  'P999999999999D',
  'P1Y',
  '-P1D',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '01234567-89ab-cdef-0123-456789abcdef',
  'javascript:alert(1)',
  'http://localhost:5432/',
  'file:///etc/passwd',
  '@',
  '@@@',
  'ovt_' + 'A'.repeat(43),
  '$where',
  '{"$gt":""}',
];

const ascii = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
const unicode = fc.string({ unit: 'binary', maxLength: 40 });

/** A value of any JSON type, biased to the ones that break things. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: unicode },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, -0, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 5e-324, true, false) },
  { weight: 1, arbitrary: fc.integer({ min: 3000, max: 300_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom({}, [], [[[[[]]]]], { a: { b: { c: { d: {} } } } }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(JSON.parse('{"__proto__":{"isAdmin":true}}'), JSON.parse('{"constructor":{"prototype":{"x":1}}}')),
  },
);

function alternatives(s: JsonSchema): JsonSchema[] {
  const alts = [...(s.anyOf ?? []), ...(s.oneOf ?? [])];
  if (Array.isArray(s.type)) alts.push(...s.type.map((type) => ({ ...s, type })));
  return alts;
}

export interface PlausibleOptions {
  /** Ids worth naming (existing objects), mixed with random uuids. */
  ids?: string[];
  /** No junk values, no unknown keys, required keys always present: requests that get past validation. */
  clean?: boolean;
  depth?: number;
}

/**
 * Values shaped by the schema: right keys and types, plausible contents, edges of every bound;
 * unless `clean`, some values are junk and some objects carry unknown keys or miss required ones.
 */
export function plausible(s: JsonSchema, opts: PlausibleOptions = {}): fc.Arbitrary<unknown> {
  const depth = opts.depth ?? 0;
  const alts = alternatives(s);
  if (alts.length) return fc.oneof(...alts.map((a) => plausible(a, opts)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = s.minimum ?? -1_000_000;
      const max = s.maximum ?? 1_000_000;
      const inRange = s.type === 'integer' ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
      return fc.oneof(inRange, fc.constantFrom(min, max, min - 1, max + 1));
    }
    case 'string':
      return stringFor(s, opts.ids);
    case 'array': {
      if (s.prefixItems) return fc.tuple(...s.prefixItems.map((i) => plausible(i, { ...opts, depth: depth + 1 })));
      const item = s.items ? plausible(s.items, { ...opts, depth: depth + 1 }) : fc.jsonValue({ maxDepth: 1 });
      return fc.array(item, { minLength: 0, maxLength: Math.min(s.maxItems ?? 4, 4) + (depth === 0 ? 1 : 0) });
    }
    case 'object':
      return objectFor(s, opts);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/**
 * Characters that PostgreSQL cannot store (U+0000), that a reader cannot see (C0/C1 controls,
 * bidi overrides and isolates, zero-width and format characters, noncharacters), that are not
 * text at all (lone surrogates), line breaks for single-line fields, a combining accent, and
 * Cyrillic/Greek letters that look Latin.
 */
export const HOSTILE_CHARS = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\u0001',
  '\u0008',
  '\u001B',
  '\u007F',
  '\u0085',
  '\u009B',
  '\u202E',
  '\u202A',
  '\u2066',
  '\u2069',
  '\u200E',
  '\u200B',
  '\u200D',
  '\u00AD',
  '\uFEFF',
  '\uFFFE',
  '\uFDD0',
  '\u2028',
  '\t',
  '\n',
  '\r',
  '\u0301',
  'а',
  'е',
  'о',
  'ο',
  'ν',
];

/** Times at and either side of the accepted range [2000-01-01, 2100-01-01), and ones no calendar has. */
export const BOUNDARY_TIMES = [
  '0000-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '1999-12-31T23:59:59.999Z',
  '2000-01-01T00:00:00Z',
  '2099-12-31T23:59:59.999Z',
  '2100-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00Z',
  '2024-02-30T00:00:00Z',
  '2024-12-31T23:59:60Z',
];

/** A string with a hostile character spliced in somewhere (start, middle or end). */
export function withHostileChar(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(base, fc.constantFrom(...HOSTILE_CHARS), fc.nat()).map(([s, ch, at]) => {
    const i = s.length === 0 ? 0 : at % (s.length + 1);
    return s.slice(0, i) + ch + s.slice(i);
  });
}

function stringFor(s: JsonSchema, ids: string[] = []): fc.Arbitrary<string> {
  switch (s.format) {
    case 'uuid':
      return ids.length ? fc.oneof(fc.constantFrom(...ids), fc.uuid()) : fc.uuid();
    case 'date-time':
      return fc.oneof(
        {
          weight: 3,
          arbitrary: fc
            .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
            .map((d) => d.toISOString()),
        },
        { weight: 3, arbitrary: fc.integer({ min: -30, max: 30 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString()) },
        { weight: 2, arbitrary: fc.constantFrom(...BOUNDARY_TIMES) },
      );
    case 'duration':
      return fc.constantFrom(
        'P3D',
        'PT24H',
        'PT1S',
        'P14D',
        'PT5M',
        'P2W',
        'P0D',
        'P1Y',
        'PT',
        'P',
        'PT0.001S',
        'P3660D',
        'P3660DT1S',
        'P999999999W',
        'PT99999999999999999999S',
      );
    case 'uri': {
      const url = fc.oneof(fc.webUrl(), fc.constantFrom('https://example.org/x', 'ftp://example.org', 'http://[::1]:80/'));
      return fc.oneof({ weight: 4, arbitrary: url }, { weight: 1, arbitrary: withHostileChar(url) });
    }
  }
  const max = s.maxLength ?? 60;
  const min = s.minLength ?? 0;
  const text = fc.string({ minLength: min, maxLength: Math.min(max, 60) });
  return fc.oneof(
    { weight: 4, arbitrary: text },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'x'.repeat(max),
        'x'.repeat(max + 1),
        '  padded  ',
        'en',
        'pt-BR',
        '@Handle',
        'nаme',
        'https://x.com/Name',
      ),
    },
    { weight: 2, arbitrary: withHostileChar(text) },
  );
}

const daysFromNow = (min: number, max: number) =>
  fc.integer({ min: min * 24, max: max * 24 }).map((h) => new Date(Date.now() + h * 3_600_000).toISOString());
/** Fields whose schema says little ("a string", "a time") but whose valid values have a shape. */
const FIELD_HINTS: Record<string, fc.Arbitrary<unknown>> = {
  language: fc.constantFrom('en', 'pt-BR', 'ar', 'DE', null),
  occurredAt: fc.oneof({ weight: 4, arbitrary: daysFromNow(-2, 0) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_TIMES) }),
  flaggedAt: fc.oneof({ weight: 4, arbitrary: daysFromNow(-30, -1) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_TIMES) }),
  dueAt: fc.oneof({ weight: 4, arbitrary: daysFromNow(1, 30) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_TIMES) }),
  until: fc.oneof({ weight: 4, arbitrary: daysFromNow(1, 30) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_TIMES) }),
  handle: fc.oneof(
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_'), minLength: 1, maxLength: 15 }),
    withHostileChar(fc.string({ unit: fc.constantFrom(...'abcdefghij_'), minLength: 1, maxLength: 12 })),
    fc.constantFrom('@ Name', 'https://x.com/Name', 'x.com/name.', 'nаme', 'ｎａｍｅ', 'name\u0301', 'na\u200bme'),
  ),
};

function objectFor(s: JsonSchema, opts: PlausibleOptions): fc.Arbitrary<Record<string, unknown>> {
  const depth = opts.depth ?? 0;
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const hinted = FIELD_HINTS[key];
    const value = hinted
      ? fc.oneof({ weight: 3, arbitrary: hinted }, { weight: 1, arbitrary: plausible(child, { ...opts, depth: depth + 1 }) })
      : plausible(child, { ...opts, depth: depth + 1 });
    model[key] = opts.clean ? value : depth > 3 ? junk : fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: junk });
  }
  const required = (s.required ?? []).filter((k) => k in model);
  if (opts.clean) {
    return fc
      .tuple(fc.record(model, { requiredKeys: [] }), fc.record(Object.fromEntries(required.map((k) => [k, model[k]!]))))
      .map(([rec, req]) => ({ ...rec, ...req }));
  }
  const known = fc.record(model, { requiredKeys: [] }).chain((rec) =>
    // Mostly keep the required keys (so validation passes and the handler runs); sometimes drop them.
    fc.oneof(
      { weight: 4, arbitrary: fc.record(Object.fromEntries(required.map((k) => [k, model[k]!]))).map((req) => ({ ...rec, ...req })) },
      { weight: 1, arbitrary: fc.constant(rec) },
    ),
  );
  const extra = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.oneof(ascii, fc.constantFrom('id', 'status', 'role', 'programId', 'version', '$where')), junk, {
        maxKeys: 2,
      }),
    },
  );
  return fc.tuple(known, extra).map(([k, e]) => ({ ...(e ?? {}), ...k }));
}

/** A request body for `schema` (often right-shaped, sometimes anything at all), serialised. */
export function bodyText(schema: JsonSchema | undefined, ids: string[]): fc.Arbitrary<string | undefined> {
  const shaped = schema ? plausible(schema, { ids }) : fc.constant({});
  const clean = schema ? plausible(schema, { ids, clean: true }) : fc.constant({});
  const protoKeys = fc.constantFrom('"__proto__":{"role":"admin"}', '"constructor":{"prototype":{"role":"admin"}}', '"__proto__":null');
  return fc.oneof(
    { weight: 8, arbitrary: clean.map((v) => JSON.stringify(v)) },
    { weight: 8, arbitrary: shaped.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: junk.map((v) => JSON.stringify(v)) },
    // A prototype key spliced into a right-shaped object.
    {
      weight: 1,
      arbitrary: fc
        .tuple(shaped, protoKeys)
        .map(([v, k]) =>
          v && typeof v === 'object' && !Array.isArray(v)
            ? `{${k}${Object.keys(v).length ? ',' : ''}${JSON.stringify(v).slice(1)}`
            : JSON.stringify(v),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{',
        '{"a":}',
        '[',
        '"unterminated',
        '{"a":1,}',
        "{'a':1}",
        'NaN',
        '\u0000',
        '{"a":1}{"b":2}',
        '['.repeat(5000) + ']'.repeat(5000),
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom('', undefined) },
    // Over the 256 KB body limit.
    { weight: 1, arbitrary: fc.constant(JSON.stringify({ name: 'x'.repeat(300 * 1024) })) },
  );
}
