import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { invalid } from '../../domain/errors.js';

/** A time on the wire: ISO 8601 UTC string; a Date in the handlers. */
export const isoTime = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (s) => new Date(s),
  encode: (d) => d.toISOString(),
});
export const nullableTime = isoTime.nullable();

export const uuid = z.uuid();
export const idParams = z.strictObject({ id: z.uuid() });

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
export const cursorParam = z.string().max(200).optional();

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
