import { DomainError } from '../domain/errors.js';

export const etag = (version: number) => `"v${version}"`;

/** One entity-tag of an If-Match list (RFC 9110 §8.8.3), weak or strong. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

const stale = () => new DomainError(412, 'precondition.failed', 'If-Match does not match the current ETag; fetch the resource again.');

/**
 * PATCH needs the version the client read: 428 without If-Match. `*` matches any current
 * version; otherwise a comma-separated list of entity-tags, compared strongly (RFC 9110
 * §13.1.1): `W/"v3"` never matches `"v3"`. Returns the check the write applies to the version
 * it finds (412 when it fails).
 */
export function requireIfMatch(header: string | undefined): (current: number) => boolean {
  if (header === undefined || header.trim() === '')
    throw new DomainError(428, 'precondition.required', 'Send If-Match with the ETag you read.');
  const value = header.trim();
  if (value === '*') return () => true;
  const versions = new Set<number>();
  for (const part of value.split(',')) {
    const tag = part.trim();
    if (tag === '') continue;
    const m = ENTITY_TAG.exec(tag);
    if (!m) throw stale();
    const version = m[1] ? null : /^v(\d{1,9})$/.exec(m[2]!);
    if (version) versions.add(Number(version[1]));
  }
  return (current) => versions.has(current);
}
