import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import type { PLATFORMS } from '../../db/schema/enums.js';
import { suppressionList } from '../../db/schema/index.js';

export type Platform = (typeof PLATFORMS)[number];

/** Case-folded, without a leading `@`: `@Some_One` and `some_one` are the same profile. */
export function normaliseHandle(handle: string): string {
  return handle.normalize('NFKC').trim().replace(/^@+/, '').toLowerCase();
}

/** Keyed hash of platform + handle: the suppression list can match a profile without storing it. */
export function suppressionHash(secret: string, platform: Platform, handle: string): string {
  return createHmac('sha256', secret).update(`${platform}\n${normaliseHandle(handle)}`).digest('hex');
}

export async function isSuppressed(tx: Tx, secret: string, platform: Platform, handle: string): Promise<boolean> {
  const rows = await tx
    .select({ hash: suppressionList.hash })
    .from(suppressionList)
    .where(eq(suppressionList.hash, suppressionHash(secret, platform, handle)));
  return rows.length > 0;
}
