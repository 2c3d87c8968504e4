// Requests (dpos and leads): data-subject requests with their statutory deadlines, a new request
// naming the profile as the person gave it, and one request opened: the cases it matched (by id
// and status only), its access export (dpos), one extension with a reason, and closing it. The
// handle travels in the POST body only: URLs carry request ids, never who a request is about.

import { ApiError, call, get, getAll, post } from './api.js';
import { badge, fill, fromLocalInput, h, PLATFORMS, toLocalInput, when, words } from './dom.js';
import { attempts, field, formAlert, formStatus, said, select, submitting } from './forms.js';
import { activeHolds, placeHoldButton } from './holds.js';

const TYPES = [
  ['access', 'access: a copy of what is held'],
  ['objection', 'objection: stop processing'],
  ['erasure', 'erasure: delete what is held'],
  ['rectification', 'rectification: correct what is held'],
];
const TYPE_NAMES = { access: 'Access', objection: 'Objection', erasure: 'Erasure', rectification: 'Rectification' };
const RESOLUTIONS = [
  ['fulfilled', 'fulfilled'],
  ['refused', 'refused'],
  ['no_data', 'no data held'],
];
const LISTS = [
  ['open', 'open'],
  ['overdue', 'overdue'],
  ['closed', 'closed'],
];
const ERASING = ['objection', 'erasure'];
const DAY_MS = 86_400_000;
let lastList = 'open';

const plural = (n, one) => `${n} ${n === 1 ? one : `${one}s`}`;
/** The request's name as a person says it: "Access request". */
export const requestName = (r) => `${TYPE_NAMES[r.type] ?? words(r.type)} request`;

const dateOnly = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
/** A deadline as a date (its time of day is the time the request came in). */
const dateOf = (iso) => h('time', { datetime: iso }, dateOnly.format(new Date(iso)));

/** The date that binds: the extension's once there is one. */
const effectiveDue = (r) => r.extendedUntil ?? r.dueAt;

/** "Due in 27 days", "Due today", "Overdue by 3 days": whole days, as a deadline is read. */
export function deadlineWords(r, now = Date.now()) {
  if (r.status === 'closed') return 'Closed';
  const left = Date.parse(effectiveDue(r)) - now;
  if (r.overdue || left <= 0) {
    const days = Math.floor(-left / DAY_MS);
    return days < 1 ? 'Overdue since today' : `Overdue by ${plural(days, 'day')}`;
  }
  const days = Math.floor(left / DAY_MS);
  if (days < 1) return 'Due today';
  if (days === 1) return 'Due tomorrow';
  return `Due in ${days} days`;
}

function deadlineBadge(r) {
  if (r.status === 'closed') return badge(`Closed: ${words(r.resolution ?? '')}`, 'ok');
  if (r.overdue) return badge(deadlineWords(r), 'danger');
  const soon = Date.parse(effectiveDue(r)) - Date.now() <= 7 * DAY_MS;
  return badge(deadlineWords(r), soon ? 'warn' : 'plain');
}

export async function renderRequests(ctx, id) {
  return id ? requestView(ctx, id) : requestsList(ctx);
}

// ---- the list and a new request -------------------------------------------------------------

async function requestsList(ctx) {
  const list = h('div', { 'aria-live': 'polite' });
  const which = select(LISTS, { value: lastList });

  async function load() {
    list.setAttribute('aria-busy', 'true');
    const items = await getAll(`/v1/dsr?status=${encodeURIComponent(which.value)}`, 400);
    fill(
      list,
      items.length
        ? h(
            'ul',
            { class: 'cards' },
            items.map((r) => requestCard(r)),
          )
        : h('p', { class: 'empty' }, `No ${which.value} request.`),
    );
    list.removeAttribute('aria-busy');
  }
  which.addEventListener('change', () => {
    lastList = which.value;
    load().catch((err) => fill(list, h('div', { class: 'form-alert', role: 'alert' }, h('p', { class: 'detail' }, err.message))));
  });
  await load();

  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Requests'),
    h(
      'p',
      { class: 'lede' },
      'Requests from the people Overture holds data about. Each must be answered within a calendar month of receipt; it can be extended once, by two months, with a reason.',
    ),
    h('div', { class: 'filters' }, field('Show', which)),
    list,
    newRequestForm(ctx),
  );
}

function requestCard(r) {
  const titleId = `dsr-${r.id}`;
  return h(
    'li',
    { class: `card dsr-card${r.overdue ? ' urgent' : ''}`, 'aria-labelledby': titleId },
    h(
      'h2',
      { class: 'card-title', id: titleId },
      h('a', { href: `#/requests/${r.id}` }, `${requestName(r)} · received `, dateOf(r.receivedAt)),
    ),
    h('p', { class: 'badges' }, deadlineBadge(r), r.extendedUntil ? badge('Extended') : null),
    h(
      'p',
      { class: 'meta' },
      r.status === 'closed' ? ['Closed ', when(r.closedAt)] : [r.extendedUntil ? 'Extended to ' : 'Due ', dateOf(effectiveDue(r))],
      ` · ${r.matches.length ? plural(r.matches.length, 'matching case') : 'no matching case'}`,
      r.suppressed ? ' · on the suppression list' : '',
    ),
  );
}

function newRequestForm(ctx) {
  const type = select(TYPES, { placeholder: 'Choose…' });
  const platform = select(Object.entries(PLATFORMS), { placeholder: 'Choose…' });
  const handle = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', maxlength: 300 });
  const received = h('input', { type: 'datetime-local', value: toLocalInput(new Date()) });
  const note = h('textarea', { rows: 2, maxlength: 2000 });
  const tries = attempts();
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'new-dsr-heading' },
    h('h2', { id: 'new-dsr-heading' }, 'Record a new request'),
    h(
      'p',
      { class: 'hint' },
      'Name the profile as the person gave it: Overture matches it across every case of the program, erased ones included, the same way it matches a flag.',
    ),
    h('div', { class: 'grid-2' }, field('Type', type, { path: 'type' }), field('Platform', platform, { path: 'profile.platform' })),
    field('Handle', handle, { path: 'profile.handle profile', hint: 'A handle, @handle or profile address, e.g. https://x.com/name.' }),
    field('Received', received, {
      path: 'receivedAt',
      hint: 'When the request reached the organisation, in your local time: the month runs from here.',
    }),
    field('Note', note, { path: 'note', hint: 'Optional: how it came in and what was asked. No names, handles or links.' }),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Record request')),
    formStatus(),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let created = null;
    const ok = await submitting(
      form,
      async () => {
        // What the page can tell before asking, said at each field as the server's refusal would be.
        const missing = [];
        if (!type.value) missing.push({ path: 'type', message: 'Choose one of the options.' });
        if (!platform.value) missing.push({ path: 'profile.platform', message: 'Choose one of the options.' });
        if (!handle.value.trim()) missing.push({ path: 'profile.handle', message: 'This is needed.' });
        if (!fromLocalInput(received.value)) missing.push({ path: 'receivedAt', message: 'Give a date and time.' });
        if (missing.length)
          throw new ApiError(400, { detail: 'Some fields need attention: see the fields marked above.', errors: missing });
        const attempt = tries.take(JSON.stringify([type.value, platform.value, handle.value, received.value, note.value]), () => ({
          programId: ctx.me.programId,
          ...(type.value ? { type: type.value } : {}),
          profile: { ...(platform.value ? { platform: platform.value } : {}), handle: handle.value.trim() },
          ...(fromLocalInput(received.value) ? { receivedAt: fromLocalInput(received.value) } : {}),
          ...(note.value.trim() ? { note: note.value.trim() } : {}),
        }));
        const res = await post('/v1/dsr', attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
          tries.failed(err);
          throw err;
        });
        tries.done();
        created = res.data;
      },
      { retrySafe: true, action: 'Record request' },
    );
    if (!ok) return;
    said(form, 'Request recorded.');
    ctx.go(`#/requests/${created.id}`);
  });
  return form;
}

// ---- one request ----------------------------------------------------------------------------

async function requestView(ctx, id) {
  const isDpo = ctx.me.role === 'dpo';
  let r = (await call('GET', `/v1/dsr/${id}`)).data;
  let held = await heldCases();
  const status = h('p', { class: 'form-status', role: 'status' });
  const head = h('section', { class: 'panel', 'aria-labelledby': 'dsr-facts-heading' });
  const matches = h('section', { class: 'panel', 'aria-labelledby': 'dsr-matches-heading' });
  const exportPart = h('section', { class: 'panel', 'aria-labelledby': 'dsr-export-heading' });
  const actions = h('div');

  function renderHead() {
    fill(
      head,
      h('h2', { id: 'dsr-facts-heading' }, 'Deadline'),
      h('p', { class: 'badges' }, deadlineBadge(r), r.extendedUntil ? badge('Extended once') : null),
      h(
        'dl',
        { class: 'facts' },
        fact('Status', words(r.status)),
        fact('Received', dateOf(r.receivedAt)),
        fact('Due', dateOf(r.dueAt)),
        fact('Extended until', r.extendedUntil ? dateOf(r.extendedUntil) : 'not extended'),
        r.status === 'closed' ? fact('Resolution', words(r.resolution)) : null,
        r.status === 'closed' ? fact('Closed', when(r.closedAt)) : null,
      ),
      r.extensionReason ? h('p', { class: 'meta' }, `Extended because: ${r.extensionReason}`) : null,
      r.note ? h('p', { class: 'meta' }, `Note: ${r.note}`) : null,
      r.resolutionNote ? h('p', { class: 'meta' }, `Closing note: ${r.resolutionNote}`) : null,
    );
  }

  function renderMatches() {
    fill(
      matches,
      h('h2', { id: 'dsr-matches-heading' }, 'Matching cases'),
      r.suppressed
        ? h(
            'p',
            { class: 'callout' },
            'The profile is on the suppression list: an earlier erasure left only a keyed hash of it, never the profile itself.',
          )
        : null,
      r.matches.length
        ? h(
            'ul',
            { class: 'plain-list dsr-matches' },
            r.matches.map((m) =>
              h(
                'li',
                {},
                // A dpo works from case ids: the case itself is not theirs to open.
                isDpo
                  ? h('span', {}, 'Case ', h('code', { class: 'case-id' }, m.caseId))
                  : h('a', { href: `#/case/${m.caseId}` }, 'Case ', h('code', { class: 'case-id' }, m.caseId)),
                ` · ${m.status === 'erased' ? 'erased (only a keyed hash is held)' : words(m.status)}`,
                m.status !== 'erased' && (r.status === 'open' || held.has(m.caseId))
                  ? [' ', placeHoldButton(m.caseId, 'dsr_pending', `case ${m.caseId}`, held.get(m.caseId))]
                  : null,
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No case of this program matches the profile.'),
    );
  }

  function renderExport() {
    if (!isDpo || r.type !== 'access') {
      exportPart.hidden = true;
      return;
    }
    exportPart.hidden = false;
    const shown = h('div', { class: 'dsr-export' });
    const alert = formAlert();
    const view = h('button', { type: 'button' }, 'View export');
    const download = h('button', { type: 'button', class: 'secondary' }, 'Download export (JSON)');
    const box = h('div', {}, alert, h('div', { class: 'actions' }, view, download));
    // Each fetch of the export is audited: one read for a view, one for a download.
    const fetchExport = async () => (await call('GET', `/v1/dsr/${id}/export`)).data;
    view.addEventListener('click', async () => {
      let exp = null;
      const ok = await submitting(box, async () => {
        exp = await fetchExport();
      });
      if (!ok) return;
      fill(shown, exportDocument(exp));
      shown.querySelector('h3')?.focus();
    });
    download.addEventListener('click', async () => {
      let exp = null;
      const ok = await submitting(box, async () => {
        exp = await fetchExport();
      });
      if (!ok) return;
      const blob = new Blob([JSON.stringify(exp, null, 2)], { type: 'application/json' });
      const href = URL.createObjectURL(blob);
      const a = h('a', { href, download: `access-export-${exp.dsrId}.json`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      status.textContent = 'Export downloaded.';
    });
    fill(
      exportPart,
      h('h2', { id: 'dsr-export-heading' }, 'Access export'),
      h(
        'p',
        { class: 'hint' },
        'Everything held about the profile, for the person who asked: staff appear by role only, leads’ notes are left out. Every view and download is audited.',
      ),
      box,
      shown,
    );
  }

  function renderActions() {
    fill(actions, r.status === 'open' && !r.extendedUntil ? extendForm() : null, r.status === 'open' ? closeForm() : null);
  }

  async function reload(text) {
    [r, held] = await Promise.all([get(`/v1/dsr/${id}`), heldCases()]);
    renderHead();
    renderMatches();
    renderExport();
    renderActions();
    status.textContent = text;
    head.querySelector('h2')?.setAttribute('tabindex', '-1');
    head.querySelector('h2')?.focus();
  }

  function extendForm() {
    const reason = h('textarea', { rows: 2, maxlength: 2000 });
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'dsr-extend-heading' },
      h('h2', { id: 'dsr-extend-heading' }, 'Extend the deadline'),
      h(
        'p',
        { class: 'hint' },
        'Once only, by two months from the due date, when the request is complex or one of many. Tell the person why.',
      ),
      field('Reason', reason, { path: 'reason', hint: 'Kept with the request. No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Extend by two months')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(form, () => post(`/v1/dsr/${id}/extend`, { reason: reason.value.trim() }), {
        action: 'Extend by two months',
      });
      if (ok) await reload('Deadline extended by two months.');
    });
    return form;
  }

  function closeForm() {
    const resolution = select(RESOLUTIONS, { placeholder: 'Choose…' });
    const note = h('textarea', { rows: 2, maxlength: 2000 });
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'dsr-close-heading' },
      h('h2', { id: 'dsr-close-heading' }, 'Close the request'),
      ERASING.includes(r.type)
        ? h(
            'p',
            { class: 'callout' },
            'Fulfilling it erases every matching case and puts the profile on the suppression list, so it is never flagged again. A case on hold stops it.',
          )
        : null,
      field('Resolution', resolution, { path: 'resolution' }),
      field('Note', note, { path: 'note', hint: 'What was done, e.g. how the export was sent. No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Close request')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(
        form,
        () => post(`/v1/dsr/${id}/close`, { ...(resolution.value ? { resolution: resolution.value } : {}), note: note.value.trim() }),
        { action: 'Close request' },
      );
      if (ok) await reload('Request closed.');
    });
    return form;
  }

  renderHead();
  renderMatches();
  renderExport();
  renderActions();
  return h(
    'section',
    { class: 'view' },
    h('p', { class: 'back' }, h('a', { href: '#/requests' }, 'All requests')),
    h('h1', {}, requestName(r)),
    status,
    head,
    matches,
    exportPart,
    actions,
  );
}

/** caseId → its first active hold. */
async function heldCases() {
  const held = new Map();
  for (const hold of await activeHolds()) if (!held.has(hold.caseId)) held.set(hold.caseId, hold);
  return held;
}

function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}

// ---- the export, as a document to read --------------------------------------------------------

const byRole = (role) => (role ? words(role) : 'staff');

function listOf(title, items, line, empty = 'None.') {
  return [
    h('h4', {}, title),
    items.length
      ? h(
          'ul',
          { class: 'plain-list' },
          items.map((x) => h('li', {}, line(x))),
        )
      : h('p', { class: 'empty' }, empty),
  ];
}

function exportDocument(exp) {
  const dp = exp.dataProtection ?? {};
  return [
    h('h3', { tabindex: '-1' }, `Export of ${plural(exp.caseCount, 'case')}`),
    h(
      'p',
      { class: 'meta' },
      'Generated ',
      when(exp.generatedAt),
      ` · ${PLATFORMS[exp.platform] ?? exp.platform} · staff shown by role only`,
    ),
    exp.keyedHashOnly ? h('p', { class: 'callout' }, exp.keyedHashOnly) : null,
    exp.concernsPendingReview.length
      ? h(
          'p',
          { class: 'callout' },
          `${plural(exp.concernsPendingReview.length, 'safeguarding concern')}: the text is left out until a data-protection officer marks it reviewed.`,
        )
      : null,
    exp.cases.map((c, i) => exportCase(c, i, exp.cases.length)),
    h('h4', {}, 'About the processing'),
    h(
      'dl',
      { class: 'facts' },
      fact('Controller', dp.controller ?? 'not set'),
      fact('Legal basis', dp.legalBasis ?? 'not set'),
      fact('Article 9 condition', dp.article9Condition ?? 'not set'),
      fact('Purposes', dp.purposes?.length ? dp.purposes.join('; ') : 'not set'),
      fact('Recipients', dp.recipients?.length ? dp.recipients.join('; ') : 'not set'),
      fact('Sources', dp.sources?.length ? dp.sources.join('; ') : 'not set'),
      fact('Kept if never contacted', durationWords(exp.retention.neverContacted)),
      fact('Kept after closing', durationWords(exp.retention.closed)),
    ),
  ];
}

const DURATION_UNITS = { Y: 'year', M: 'month', W: 'week', D: 'day', H: 'hour' };
/** `P90D` → `90 days`, `P1Y6M` → `1 year 6 months`; anything else as written. */
function durationWords(iso) {
  const parts = /^P(?!$)((\d+Y)?(\d+M)?(\d+W)?(\d+D)?)(T(\d+H)?)?$/.exec(String(iso));
  if (!parts) return String(iso);
  return [...String(iso).matchAll(/(\d+)([YMWDH])/g)].map(([, n, u]) => plural(Number(n), DURATION_UNITS[u])).join(' ');
}

function exportCase(c, i, n) {
  const title = `Case ${i + 1} of ${n}`;
  if (c.erased) {
    return h(
      'section',
      { class: 'export-case', 'aria-label': title },
      h('h4', {}, title, ' · erased ', when(c.erasedAt)),
      h('p', {}, c.notice),
    );
  }
  const p = c.identity;
  return h(
    'section',
    { class: 'export-case', 'aria-label': title },
    h('h4', {}, `${title} · ${words(c.status)}`),
    h(
      'dl',
      { class: 'facts' },
      fact('Handle', p.handle ?? 'none'),
      fact('Display name', p.displayName ?? 'none'),
      fact('Profile address', p.url ?? 'none'),
      fact('Language', p.language ?? 'not noted'),
      fact('Flagged', [when(c.flaggedAt), ` by ${byRole(c.flaggedByRole)}`]),
      fact('Stage', words(c.stage)),
      fact('Risk level', c.riskLevel),
      fact('Outcome', c.outcome ? words(c.outcome) : 'none yet'),
    ),
    listOf('Indicators', c.indicators, (x) => [
      h('strong', {}, words(x.kind)),
      x.note ? ` — ${x.note}` : null,
      x.evidenceUrl ? ` (${x.evidenceUrl})` : null,
    ]),
    listOf('Messages', c.touchpoints, (t) => [
      when(t.occurredAt),
      ` · ${t.direction === 'outbound' ? 'sent to them' : 'received from them'} · ${words(t.channel)} · by ${byRole(t.loggedByRole)}`,
      t.voided ? ' · voided' : null,
      t.summary ? h('span', { class: 'export-text' }, t.summary) : null,
    ]),
    listOf('Notes', c.notes, (x) => [
      when(x.createdAt),
      ` · ${words(x.kind)} by ${byRole(x.authorRole)}`,
      x.body ? h('span', { class: 'export-text' }, x.body) : null,
    ]),
    listOf('Follow-ups', c.followUps, (f) => [
      `${words(f.kind)} due `,
      when(f.dueAt),
      ` · ${words(f.status)}`,
      f.note ? h('span', { class: 'export-text' }, f.note) : null,
    ]),
    listOf('Assessments', c.assessments, (a) => [`${words(a.phase)} · `, when(a.createdAt), ` by ${byRole(a.assessorRole)}`]),
    listOf('Safeguarding concerns', c.safeguardingConcerns, (s) => [
      `${s.severity} · ${words(s.status)} · raised `,
      when(s.raisedAt),
      s.textIncluded
        ? s.concern
          ? h('span', { class: 'export-text' }, s.concern)
          : null
        : h('span', { class: 'export-text meta' }, 'Text left out until reviewed by a data-protection officer.'),
    ]),
    listOf('Referrals', c.referrals, (x) => [`to ${words(x.to)} · consent ${words(x.consent)} · ${words(x.status)} · `, when(x.createdAt)]),
    listOf('History', c.events, (e) => [
      when(e.at),
      ` · ${words(e.kind)} by ${byRole(e.actorRole)}`,
      e.reason ? ` · reason: ${e.reason}` : null,
    ]),
  );
}
