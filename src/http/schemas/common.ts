import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { invalid } from '../../domain/errors.js';

/** Times a client may send: anything outside is a typo or a probe, and PostgreSQL may refuse it. */
export const EARLIEST_TIME = Date.UTC(2000, 0, 1);
export const LATEST_TIME = Date.UTC(2100, 0, 1);
const TIME_RANGE = 'must be between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z';

/** A time as ISO 8601 text within [2000, 2100), kept as text (a cursor's): out of range is 400, never a PostgreSQL range error. */
export const isoTimeText = z.iso.datetime({ offset: true }).refine((v) => {
  const t = Date.parse(v);
  return t >= EARLIEST_TIME && t < LATEST_TIME;
}, TIME_RANGE);

/** A time on the wire: ISO 8601 UTC string, within [2000, 2100); a Date in the handlers. */
export const isoTime = z
  .codec(isoTimeText, z.date(), {
    decode: (s) => new Date(s),
    encode: (d) => d.toISOString(),
  })
  .meta({ example: '2026-12-01T09:30:00Z' });
export const nullableTime = isoTime.nullable();

/**
 * What no text field may hold: U+0000 and C0/C1 controls (PostgreSQL cannot store the first, a
 * reader cannot see the others), unpaired surrogates, the bidi embedding/override/isolate
 * controls that reorder what a reader sees (Trojan Source), and noncharacters.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const UNSEEN_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFDD0-\uFDEF\uFFFE\uFFFF]|\p{Cs}/u;
/** Single-line fields also refuse tab, LF and CR. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const UNSEEN_IN_LINE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFDD0-\uFDEF\uFFFE\uFFFF]|\p{Cs}/u;

/** The first character a field refuses, for the error message (as a code point, never the text). */
function refusedAt(value: string, pattern: RegExp): string | null {
  const m = pattern.exec(value);
  if (!m) return null;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

const REFUSED_IN_TEXT = 'control, bidi-override or unpaired surrogate characters are refused';
const REFUSED_IN_LINE = 'control, line-break, bidi-override or unpaired surrogate characters are refused';

function refuse(pattern: RegExp, what: string) {
  return (v: string, ctx: z.RefinementCtx) => {
    const at = refusedAt(v, pattern);
    if (at) ctx.addIssue({ code: 'custom', message: `may not contain ${at} (${what})` });
  };
}

function textType(pattern: RegExp, what: string) {
  return (opts: { min?: number; max: number }) => {
    let out = z.string().superRefine(refuse(pattern, what)).trim();
    if (opts.min !== undefined) out = out.min(opts.min);
    return out.max(opts.max);
  };
}

/**
 * Free text (notes, summaries, concerns): tab, LF and CR allowed; what PostgreSQL cannot store
 * or a reader cannot see → 400 naming the field. Every request schema's free text uses this.
 */
export const freeText = textType(UNSEEN_IN_TEXT, REFUSED_IN_TEXT);
/** A single-line field (names, handles, labels, reasons, tags): no tab or line breaks either. */
export const singleLine = textType(UNSEEN_IN_LINE, REFUSED_IN_LINE);

/**
 * A URL field. The check runs before the URL parser, which would quietly drop or escape what
 * single-line text refuses (z.url() hands on the parser's normalised form).
 */
export function visibleUrl(params: Parameters<z.ZodString['url']>[0]) {
  return z.string().superRefine(refuse(UNSEEN_IN_LINE, REFUSED_IN_LINE)).trim().url(params);
}

export const uuid = z.uuid();
/** An action that takes no fields (complete, cancel, stop): the body may be left out, and anything in it is refused. */
export const emptyBody = z.strictObject({}).nullish();

export const idParams = z.strictObject({ id: z.uuid().meta({ example: '0193a1e4-2f6d-7c18-9a3b-4e5f6a7b8c02' }) });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string(),
    requestId: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const limitParam = z.coerce.number().int().min(1).max(200).default(50);
export const cursorParam = singleLine({ max: 200 }).optional();

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const idCursor = z.uuid();

/** An opaque cursor back to the last-seen key; a cursor that is not one of ours is a 400. */
export function decodeCursor<T = string>(cursor: string | undefined, schema: z.ZodType<T> = idCursor as never): T | undefined {
  if (!cursor) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid('pagination.invalid_cursor', 'This cursor was not issued by this list.', 'cursor');
  return parsed.data;
}

/** Rows fetched with limit + 1: the extra one says whether a next page exists. */
export function toPage<R, V>(rows: R[], limit: number, view: (r: R) => V, key: (r: R) => unknown = (r) => (r as { id: string }).id) {
  const items = rows.slice(0, limit);
  return {
    items: items.map(view),
    nextCursor: rows.length > limit ? encodeCursor(key(items.at(-1)!)) : null,
  };
}

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });

/** Error responses every authenticated route may give (problem+json), for the OpenAPI document. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    [...new Set([401, 403, 413, 415, 429, ...statuses])].map((s) => [s, problemResponse(STATUS_CODES[s] ?? 'Error')]),
  );
}
