import { createHmac } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import type { PLATFORMS } from '../vocabulary.js';
import { anySuppressed } from './store.js';

export type Platform = (typeof PLATFORMS)[number];

/** What each platform allows in a handle, after normalisation (API.md, Cases). */
const SYNTAX: Record<Exclude<Platform, 'other'>, RegExp> = {
  x: /^[a-z0-9_]{1,15}$/,
  instagram: /^[a-z0-9._]{1,30}$/,
  tiktok: /^[a-z0-9._]{2,24}$/,
  youtube: /^[a-z0-9._-]{3,30}$/,
  telegram: /^[a-z0-9_]{5,32}$/,
  reddit: /^[a-z0-9_-]{3,20}$/,
  facebook: /^(?:[a-z0-9.]{5,50}|\d{1,20})$/,
};
const OTHER_SYNTAX = /^[^\p{C}]{1,100}$/u;

/** Profile URLs of each platform: host (after `www.`, `m.`, `mobile.`) and where the handle sits in the path. */
const PROFILE_URLS: Record<Exclude<Platform, 'other'>, { hosts: string[]; path: RegExp }> = {
  x: { hosts: ['x.com', 'twitter.com'], path: /^\/@?([^/]+)\/?$/ },
  instagram: { hosts: ['instagram.com'], path: /^\/([^/]+)\/?$/ },
  tiktok: { hosts: ['tiktok.com'], path: /^\/@([^/]+)\/?$/ },
  youtube: { hosts: ['youtube.com'], path: /^\/@([^/]+)\/?$/ },
  telegram: { hosts: ['t.me', 'telegram.me'], path: /^\/@?([^/]+)\/?$/ },
  reddit: { hosts: ['reddit.com', 'old.reddit.com'], path: /^\/(?:user|u)\/([^/]+)\/?$/ },
  facebook: { hosts: ['facebook.com', 'fb.com'], path: /^\/([^/]+)\/?$/ },
};

/** Whole scripts a handle may be written in; mixing Latin with a look-alike script is how a handle hides. */
const LATIN = /\p{Script=Latin}/u;
const LOOKALIKE = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}]/u;

export type HandleResult = { ok: true; handle: string } | { ok: false; reason: string; field: 'handle' | 'url' };

/** `https://x.com/Name`, `twitter.com/Name`, `m.facebook.com/profile.php?id=1`: the handle in it, or null when it is not this platform's profile URL. */
export function handleFromUrl(platform: Platform, text: string): string | null {
  if (platform === 'other') return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const host = url.hostname
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^(?:www|m|mobile)\./, '');
  const shape = PROFILE_URLS[platform];
  if (!shape.hosts.includes(host)) return null;
  if (platform === 'facebook' && /^\/profile\.php\/?$/.test(url.pathname)) return url.searchParams.get('id');
  const m = shape.path.exec(url.pathname);
  if (!m?.[1]) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

/**
 * One person, one form: NFKC, case-folded, format characters (zero-width, soft hyphen, bidi
 * controls) and surrounding whitespace removed, a leading `@` dropped after trimming, a
 * trailing dot dropped (no platform's handle ends in one), and on platforms whose handles are
 * ASCII, combining marks removed (`é` typed as e + U+0301 is `e`). No validation: see
 * `normaliseHandle`.
 */
export function canonicalHandle(platform: Platform, raw: string): string {
  const visible = raw
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .trim();
  const fromUrl = handleFromUrl(platform, visible);
  let h = (fromUrl ?? visible)
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '');
  if (platform !== 'other') h = h.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC');
  h = h.trim().replace(/^@+/, '').trim().replace(/\.+$/, '');
  if (platform === 'other') h = h.replace(/\p{Z}+/gu, ' ');
  return h;
}

/**
 * The handle to compare, store and hash for the suppression list, or why it is not one: the
 * same function feeds all three. `url`, when it is this platform's profile URL, must name the
 * same profile as `handle`.
 */
export function normaliseHandle(platform: Platform, raw: string, url?: string | null): HandleResult {
  const handle = canonicalHandle(platform, raw);
  if (!handle) return { ok: false, reason: 'The handle is empty once normalised.', field: 'handle' };
  if (platform === 'other') {
    if (!OTHER_SYNTAX.test(handle)) return { ok: false, reason: 'A handle is 1 to 100 printable characters.', field: 'handle' };
    if (LATIN.test(handle) && LOOKALIKE.test(handle)) {
      return { ok: false, reason: 'The handle mixes Latin letters with look-alike letters of another script.', field: 'handle' };
    }
  } else if (!SYNTAX[platform].test(handle)) {
    return { ok: false, reason: `This is not a valid ${platform} handle (allowed: ${SYNTAX[platform].source}).`, field: 'handle' };
  }
  if (url) {
    const named = handleFromUrl(platform, url);
    if (named !== null && canonicalHandle(platform, named) !== handle) {
      return { ok: false, reason: 'The URL names another profile than the handle.', field: 'url' };
    }
  }
  return { ok: true, handle };
}

/**
 * The handle entries were hashed with before migration 0008: the old normalisation, applied
 * twice (once before storing, once again inside the hash).
 */
export function legacyNormalise(handle: string): string {
  const once = (h: string) => h.normalize('NFKC').trim().replace(/^@+/, '').toLowerCase();
  return once(once(handle));
}

/** Keyed hash of platform + normalised handle: the suppression list can match a profile without storing it. */
export function suppressionHash(secret: string, platform: Platform, normalisedHandle: string): string {
  return createHmac('sha256', secret).update(`${platform}\n${normalisedHandle}`).digest('hex');
}

/**
 * Suppressed under today's normalisation, or under the one in force when the entry was hashed
 * (an entry cannot be re-hashed: only the hash is kept).
 */
export async function isSuppressed(tx: Tx, secret: string, platform: Platform, normalised: string, raw: string): Promise<boolean> {
  const hashes = [...new Set([suppressionHash(secret, platform, normalised), suppressionHash(secret, platform, legacyNormalise(raw))])];
  return anySuppressed(tx, hashes);
}
