// Building the page: elements from data, never parsed as HTML (every value may be text a person typed),
// and the domain's words and times as a reader wants them.

/** `h('p', { class: 'x', onClick }, 'text', child)`; `value` is set after the children (a select's options). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [key, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (key === 'class') el.className = v;
    else if (key === 'value') value = v;
    else if (key === 'dataset') Object.assign(el.dataset, v);
    else if (key.startsWith('on') && typeof v === 'function') el.addEventListener(key.slice(2).toLowerCase(), v);
    else el.setAttribute(key, v === true ? '' : String(v));
  }
  append(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

/** Replaces an element's children, skipping null and false (replaceChildren would write "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export const hiddenText = (text) => h('span', { class: 'visually-hidden' }, text);

/** The enum value as words: `far_right` → `far right`. */
export const words = (value) => String(value ?? '').replaceAll('_', ' ');

export const PLATFORMS = {
  x: 'X',
  facebook: 'Facebook',
  instagram: 'Instagram',
  youtube: 'YouTube',
  tiktok: 'TikTok',
  telegram: 'Telegram',
  reddit: 'Reddit',
  other: 'Other',
};
export const IDEOLOGIES = { far_right: 'far right', islamist: 'Islamist', other: 'other' };

/** How the platform writes a handle. */
export function handleText(profile) {
  if (!profile?.handle) return null;
  const at = ['x', 'instagram', 'tiktok', 'telegram', 'youtube'].includes(profile.platform);
  return profile.platform === 'reddit' ? `u/${profile.handle}` : at ? `@${profile.handle}` : profile.handle;
}

/** What a person calls the profile: its display name, else its handle. */
export function profileName(profile) {
  return profile?.displayName || handleText(profile) || 'Erased profile';
}

const PROFILE_URL = {
  x: (h) => `https://x.com/${h}`,
  facebook: (h) => `https://www.facebook.com/${h}`,
  instagram: (h) => `https://www.instagram.com/${h}/`,
  youtube: (h) => `https://www.youtube.com/@${h}`,
  tiktok: (h) => `https://www.tiktok.com/@${h}`,
  telegram: (h) => `https://t.me/${h}`,
  reddit: (h) => `https://www.reddit.com/user/${h}`,
};

/** The public profile to write to: the URL the analyst gave, else the platform's own address for the handle. */
export function profileUrl(profile) {
  if (profile?.url && /^https?:\/\//i.test(profile.url)) return profile.url;
  const build = profile?.handle ? PROFILE_URL[profile.platform] : null;
  return build ? build(encodeURIComponent(profile.handle)) : null;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "in 3 days", "2 hours ago", "now". */
export function fromNow(iso, now = Date.now()) {
  const diff = Date.parse(iso) - now;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return relative.format(Math.round(diff / ms), unit);
  }
  return 'now';
}

/** A `<time>` showing the local date and time and how far off it is. */
export function when(iso) {
  if (!iso) return null;
  return h('time', { datetime: iso }, `${dateTime.format(new Date(iso))} (${fromNow(iso)})`);
}

/** A date as a datetime-local input wants it, in local time, to the minute. */
export function toLocalInput(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** A datetime-local value as an ISO instant, or null when empty or unreadable. */
export function fromLocalInput(value) {
  if (!value) return null;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

export function badge(text, tone = 'plain') {
  return h('span', { class: `badge badge-${tone}` }, text);
}

/** Moves focus to a view's heading, so keyboard and screen-reader users start at the top of it. */
export function focusHeading(root) {
  const heading = root.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

/** A short-lived polite message for screen readers (and a visible one where `target` is given). */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A change after a tick is read out even when the same text comes twice.
  setTimeout(() => {
    region.textContent = text;
  }, 30);
}
