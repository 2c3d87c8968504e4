import { DomainError } from '../errors.js';
import type { ProgramSettings } from '../programs/settings.js';

/**
 * What free text may not hold when `freeTextIdentifierCheck` is on: anything that points at a
 * person or a place online. Handles belong on the profile row alone and evidence links in
 * `indicators[].evidenceUrl`, where erasure and the suppression list can find them.
 *
 * - `url`: a scheme (`https://…`, `ftp://…`), `www.…`, or a bare domain followed by a path
 *   (`example.com/path`, `t.me/channel`); a bare domain without a path when its last label is one
 *   of the endings profiles and link shorteners commonly use (`t.me`, `bit.ly`, `example.com`).
 * - `email`: `name@example.org` is an identifier of a person as much as a handle is, so it is refused.
 * - `handle`: `@name` (also with the full-width ＠) not inside a word; `@5pm`, `@ 5` and a lone `@` are not handles.
 *
 * Not caught, on purpose: obfuscated forms (`example[.]com`, `hxxp`), platform prefixes such as
 * `u/name`, and names written as words. The check is a guard against habit, not against intent.
 */
export type IdentifierKind = 'url' | 'email' | 'handle';

const SCHEME_URL = /\b[a-z][a-z0-9+.-]{1,20}:\/\/\S/i;
const WWW = /\bwww\d{0,3}\.[a-z0-9-]+/i;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?';
// The last label in lower case: "no.He/she" (a missing space) is a sentence, "example.com/x" a link.
const DOMAIN_WITH_PATH = new RegExp(String.raw`(?<![\w@.-])${LABEL}(?:\.${LABEL})*\.[a-z]{2,24}\/`);
/** Endings common enough for a bare domain to be read as a link; others need a path (so "Node.js" or "e.g." pass). */
const BARE_ENDINGS = 'com|net|org|io|me|ly|co|uk|ru|de|fr|tv|gg|info|xyz|app|link|page|social|to|su|ua|ir';
const BARE_DOMAIN = new RegExp(String.raw`(?<![\w@.-])${LABEL}(?:\.${LABEL})*\.(?:${BARE_ENDINGS})(?![\w-])`);
const EMAIL = /[\p{L}\p{N}._%+-]+[@＠][\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/u;
/** `@` or `＠` not preceded by a word character, then the handle's characters. */
const HANDLE = /(?<![\p{L}\p{N}_@＠])[@＠]([\p{L}\p{N}_](?:[\p{L}\p{N}_.]*[\p{L}\p{N}_])?)/gu;
/** "@5pm", "@ 10:30", "@9.15am": a time, not a handle. */
const TIME = /^\d{1,2}(?:[:.h]\d{2})?(?:am|pm|h)?$/i;

/** The first kind of identifier the text holds, or null. Pure; never returns the identifier itself. */
export function findIdentifier(text: string): IdentifierKind | null {
  if (SCHEME_URL.test(text) || WWW.test(text)) return 'url';
  if (EMAIL.test(text)) return 'email';
  if (DOMAIN_WITH_PATH.test(text) || BARE_DOMAIN.test(text)) return 'url';
  for (const m of text.matchAll(HANDLE)) {
    if (!TIME.test(m[1]!)) return 'handle';
  }
  return null;
}

const WHAT: Record<IdentifierKind, string> = {
  url: 'a URL (evidence links go in indicators[].evidenceUrl)',
  email: 'an email address',
  handle: 'an @handle (the handle belongs on the profile alone)',
};

export const containsIdentifier = (path: string, kind: IdentifierKind) => {
  const message = `${path} holds ${WHAT[kind]}; free text may not name anyone or link anywhere.`;
  return new DomainError(422, 'text.contains_identifier', message, { errors: [{ path, message }], kind });
};

/**
 * Refuses free text that holds an identifier (422 `text.contains_identifier` naming the field),
 * when the program has `freeTextIdentifierCheck` on. `fields` maps each field's pointer
 * (`body.summary`) to its text; absent and null fields pass.
 */
export function checkFreeText(
  settings: Pick<ProgramSettings, 'freeTextIdentifierCheck'>,
  fields: Record<string, string | null | undefined>,
): void {
  if (!settings.freeTextIdentifierCheck) return;
  for (const [path, text] of Object.entries(fields)) {
    if (!text) continue;
    const kind = findIdentifier(text);
    if (kind) throw containsIdentifier(path, kind);
  }
}
