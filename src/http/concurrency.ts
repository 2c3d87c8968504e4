import { DomainError } from '../domain/errors.js';

export const etag = (version: number) => `"v${version}"`;

/** PATCH needs the version the client read: 428 without If-Match, 412 when it is not ours. */
export function requireIfMatch(header: string | undefined): number {
  if (!header) throw new DomainError(428, 'precondition.required', 'Send If-Match with the ETag you read.');
  const m = /^(?:W\/)?"v(\d{1,9})"$/.exec(header.trim());
  if (!m) throw new DomainError(412, 'precondition.failed', 'If-Match does not match the current ETag; fetch the resource again.');
  return Number(m[1]);
}
