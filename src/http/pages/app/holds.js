// Holds (dpos and leads): a hold keeps a case from retention and erasure until it is released or
// its end date passes. The Holds page lists the program's active holds, releases one, and places
// one on a case by its id; a lead also places and releases them from the case page. A dpo knows
// a case by its id only: nothing here reads a case.

import { ApiError, call } from './api.js';
import { badge, fill, fromLocalInput, h, hiddenText, when, words } from './dom.js';
import { attempts, field, formAlert, formStatus, said, select, submitting } from './forms.js';

const REASONS = [
  ['safeguarding_investigation', 'safeguarding investigation'],
  ['complaint', 'complaint'],
  ['litigation', 'litigation'],
  ['dsr_pending', 'data-subject request pending'],
];
const reasonWords = (r) => REASONS.find(([v]) => v === r)?.[1] ?? words(r);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The program's active holds (the list is capped by the API's page size). */
export async function activeHolds() {
  return (await call('GET', '/v1/holds?active=true&limit=200')).data.items;
}

/** Places a hold: a creating POST, so one Idempotency-Key per attempt. */
async function place(tries, caseId, body) {
  const attempt = tries.take(JSON.stringify([caseId, body]), () => body);
  const res = await call('POST', `/v1/cases/${caseId}/holds`, { body: attempt.body, headers: { 'idempotency-key': attempt.key } }).catch(
    (err) => {
      tries.failed(err);
      throw err;
    },
  );
  tries.done();
  return res;
}

/** `Case <id>` as a link for a lead, as text for a dpo (the case is not theirs to open). */
function caseRef(ctx, caseId) {
  const label = ['Case ', h('code', { class: 'case-id' }, caseId)];
  return ctx.me.role === 'lead' ? h('a', { href: `#/case/${caseId}` }, label) : h('span', {}, label);
}

function holdItem(ctx, hold, { onReleased, showCase = true }) {
  const titleId = `hold-${hold.id}`;
  const release = h('button', { type: 'button', class: 'secondary small' }, 'Release', hiddenText(` the hold on case ${hold.caseId}`));
  const item = h(
    'li',
    { class: 'card hold-card', 'aria-labelledby': titleId },
    h('h3', { class: 'card-title', id: titleId }, showCase ? [caseRef(ctx, hold.caseId), ' · '] : null, reasonWords(hold.reason)),
    h(
      'p',
      { class: 'meta' },
      'Placed ',
      when(hold.createdAt),
      ` by ${ctx.staffName(hold.createdBy)} · `,
      hold.until ? ['ends ', when(hold.until)] : 'until released',
    ),
    formAlert(),
    h('div', { class: 'actions' }, release),
  );
  release.addEventListener('click', async () => {
    const ok = await submitting(item, () => call('DELETE', `/v1/holds/${hold.id}`), { action: 'Release' });
    if (ok) await onReleased(hold);
  });
  return item;
}

/**
 * The form that places a hold. `caseId` fixed (the case page), or typed (the Holds page);
 * `onPlaced(hold)` follows a success.
 */
function placeForm({ caseId, onPlaced, headingId }) {
  const idInput = caseId
    ? null
    : h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', maxlength: 36 });
  const reason = select(REASONS, { placeholder: 'Choose…' });
  const until = h('input', { type: 'datetime-local' });
  const tries = attempts();
  const form = h(
    'form',
    { class: caseId ? 'subform' : 'panel', novalidate: true, 'aria-labelledby': headingId },
    h(caseId ? 'h3' : 'h2', { id: headingId }, 'Place a hold'),
    h('p', { class: 'hint' }, 'Retention skips a held case and it cannot be erased, even on request, until the hold ends.'),
    idInput ? field('Case id', idInput, { path: 'caseId', hint: 'The case’s id, e.g. from a request’s matching cases.' }) : null,
    h(
      'div',
      { class: 'grid-2' },
      // On the case page, among the case's own Reason fields, the labels say whose they are.
      field(caseId ? 'Hold reason' : 'Reason', reason, { path: 'reason' }),
      field(caseId ? 'Hold until' : 'Until', until, { path: 'until', hint: 'Optional, your local time: empty holds it until released.' }),
    ),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Place hold')),
    formStatus(),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let placed = null;
    const target = caseId ?? idInput.value.trim();
    const ok = await submitting(
      form,
      async () => {
        const missing = [];
        if (!UUID.test(target)) missing.push({ path: 'caseId', message: 'Give the case’s id: 36 characters, as shown on the case.' });
        if (!reason.value) missing.push({ path: 'reason', message: 'Choose one of the options.' });
        if (until.value && !fromLocalInput(until.value)) missing.push({ path: 'until', message: 'Give a date and time.' });
        if (missing.length)
          throw new ApiError(400, { detail: 'Some fields need attention: see the fields marked above.', errors: missing });
        const body = { reason: reason.value, ...(until.value ? { until: fromLocalInput(until.value) } : {}) };
        placed = (
          await place(tries, target, body).catch((err) => {
            // An id the API does not know (or not in this program) is said at the field.
            if (!caseId && err instanceof ApiError && err.status === 404) {
              throw new ApiError(404, { ...err.problem, errors: [{ path: 'caseId', message: 'No case of your program has this id.' }] });
            }
            throw err;
          })
        ).data;
      },
      { retrySafe: true, action: 'Place hold' },
    );
    if (!ok) return;
    reason.value = '';
    until.value = '';
    if (idInput) idInput.value = '';
    await onPlaced(placed);
    said(form, caseId ? 'Hold placed.' : `Hold placed on case ${placed.caseId}.`);
  });
  return form;
}

export async function renderHolds(ctx) {
  const list = h('div', { 'aria-live': 'polite' });
  const status = h('p', { class: 'form-status', role: 'status' });

  async function load() {
    const holds = await activeHolds();
    fill(
      list,
      holds.length
        ? h(
            'ul',
            { class: 'cards' },
            holds.map((hold) =>
              holdItem(ctx, hold, {
                async onReleased(gone) {
                  await load();
                  status.textContent = `Hold released on case ${gone.caseId}.`;
                  document.getElementById('holds-heading')?.focus();
                },
              }),
            ),
          )
        : h('p', { class: 'empty' }, 'No case is on hold.'),
    );
  }
  await load();

  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Holds'),
    h(
      'p',
      { class: 'lede' },
      'A hold keeps a case through retention and refuses its erasure while an investigation, complaint, litigation or request needs it.',
    ),
    status,
    h('section', { 'aria-labelledby': 'holds-heading' }, h('h2', { id: 'holds-heading', tabindex: '-1' }, 'Active holds'), list),
    placeForm({ onPlaced: () => load(), headingId: 'place-hold-heading' }),
  );
}

/** The case page's Holds panel (leads): the case's active holds, releasing one, placing one. */
export async function caseHoldsPanel(ctx, caseId) {
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'case-holds-heading' });
  const list = h('div');
  const status = h('p', { class: 'form-status', role: 'status' });

  async function load() {
    const holds = (await activeHolds()).filter((x) => x.caseId === caseId);
    fill(
      list,
      holds.length
        ? h(
            'ul',
            { class: 'cards' },
            holds.map((hold) =>
              holdItem(ctx, hold, {
                showCase: false,
                async onReleased() {
                  await load();
                  status.textContent = 'Hold released.';
                  document.getElementById('case-holds-heading')?.focus();
                },
              }),
            ),
          )
        : h('p', { class: 'empty' }, 'Not on hold.'),
    );
  }
  await load();
  fill(
    panel,
    h('h2', { id: 'case-holds-heading', tabindex: '-1' }, 'Holds'),
    status,
    list,
    placeForm({ caseId, onPlaced: () => load(), headingId: 'case-place-hold-heading' }),
  );
  return panel;
}

/**
 * One button that holds `caseId` for `reason` (a request's matching case: `dsr_pending`), or
 * says it is held already (`held`: the case's active hold, if any).
 */
export function placeHoldButton(caseId, reason, label, held) {
  const box = h('span', { class: 'hold-inline' });
  const tries = attempts();
  const show = (hold) => {
    if (hold) {
      fill(box, badge(`On hold: ${reasonWords(hold.reason)}`, 'warn'));
      return;
    }
    const button = h('button', { type: 'button', class: 'secondary small' }, 'Place a hold', hiddenText(` on ${label}`));
    fill(box, button, formAlert());
    button.addEventListener('click', async () => {
      let placed = null;
      const ok = await submitting(
        box,
        async () => {
          placed = (await place(tries, caseId, { reason })).data;
        },
        { retrySafe: true, action: 'Place a hold' },
      );
      if (ok) {
        show(placed);
        box.setAttribute('tabindex', '-1');
        box.focus();
      }
    });
  };
  show(held);
  return box;
}
