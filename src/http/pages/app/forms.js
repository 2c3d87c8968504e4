// Labelled controls, problem+json shown next to the field it names, and idempotent attempts.

import { ApiError, newIdempotencyKey } from './api.js';
import { h } from './dom.js';

let uid = 0;
/** A page-unique id for a control. */
export const nextId = (prefix) => `${prefix}-${++uid}`;

/**
 * A labelled control with its hint and its error line. `path` is the body field it sends
 * (`summary`, `profile.handle`; several separated by spaces), so the API's `errors[].path`
 * finds it.
 */
export function field(label, control, { hint, path, className } = {}) {
  const id = control.id || nextId('f');
  control.id = id;
  if (path) control.dataset.path = path;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  control.setAttribute('aria-describedby', [hintEl?.id, errorEl.id].filter(Boolean).join(' '));
  // The hint goes under the control, so controls side by side line up whatever their hints.
  return h('div', { class: `field${className ? ` ${className}` : ''}` }, h('label', { for: id }, label), control, hintEl, errorEl);
}

/** A select of `[value, label]` pairs; `placeholder` adds an empty first choice. */
export function select(options, { value, placeholder, name, required } = {}) {
  return h(
    'select',
    { name, required, value: value ?? '' },
    placeholder ? h('option', { value: '' }, placeholder) : null,
    options.map(([v, label]) => h('option', { value: v }, label)),
  );
}

/** Checkboxes under one legend: the fieldset is labelled by it, so it can be found by that label. */
export function checkboxes(legend, options, { path, hint } = {}) {
  const id = nextId('g');
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  return h(
    'fieldset',
    {
      class: 'field checks',
      id,
      'aria-labelledby': `${id}-legend`,
      'aria-describedby': [hintEl?.id, errorEl.id].filter(Boolean).join(' '),
      dataset: path ? { path } : undefined,
    },
    h('legend', { id: `${id}-legend` }, legend),
    hintEl,
    h(
      'div',
      { class: 'check-list' },
      options.map(([value, label]) => {
        const box = h('input', { type: 'checkbox', id: nextId('c'), value });
        return h('label', { class: 'check', for: box.id }, box, h('span', {}, label));
      }),
    ),
    errorEl,
  );
}

export const checked = (fieldset) => [...fieldset.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);

/** The alert line a form shows its problem in; placed first in the form. */
export function formAlert() {
  return h('div', { class: 'form-alert', role: 'alert', hidden: true });
}
/** The form's success line, read out politely. */
export function formStatus() {
  return h('p', { class: 'form-status', role: 'status' });
}

/** The validator's terse messages as a person would say them; anything else as the API wrote it. */
function inWords(message) {
  if (/expected string to have >=1 characters|received undefined|expected nonoptional/i.test(message)) return 'This is needed.';
  if (/^Invalid option: expected one of/i.test(message)) return 'Choose one of the options.';
  const long = /expected string to have <=(\d+) characters/i.exec(message);
  if (long) return `Too long: at most ${long[1]} characters.`;
  if (/Invalid ISO datetime|Invalid input: expected string, received null/i.test(message)) return 'Give a date and time.';
  return message;
}

function controlFor(form, path) {
  const rel = path.replace(/^body\./, '');
  const controls = [...form.querySelectorAll('[data-path]')];
  // The exact field, else the nearest enclosing one (`indicators.0.note` → `indicators`).
  for (let p = rel; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const hit = controls.find((c) => c.dataset.path.split(' ').includes(p));
    if (hit) return hit;
  }
  return null;
}

export function clearProblem(form) {
  const alert = form.querySelector('.form-alert');
  if (alert) {
    alert.hidden = true;
    alert.replaceChildren();
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  const status = form.querySelector('.form-status');
  if (status) status.textContent = '';
}

const STALE =
  'Someone else changed this case since you opened it, so your change was not saved. Reload to see the case as it is now, then make your change again.';

/**
 * Shows a refused call in the form: the problem's detail in words at the top, and each
 * `errors[]` entry next to the field it names. A 412 offers to reload (`onReload`); a lost
 * connection says whether pressing the button again is safe (`retrySafe`: an idempotent attempt).
 */
export function showProblem(form, err, { onReload, retrySafe, action = 'Save' } = {}) {
  clearProblem(form);
  const alert = form.querySelector('.form-alert');
  const problem = err instanceof ApiError ? err.problem : null;
  const status = err instanceof ApiError ? err.status : 0;
  let detail = err.message;
  if (status === 412) detail = STALE;
  else if (status === 0 && err instanceof ApiError)
    detail = retrySafe
      ? `The connection failed, so this may or may not have been recorded. Press “${action}” again to retry: it will not be recorded twice.`
      : 'The connection failed before the server answered. Check your connection and try again.';
  else if (problem?.code === 'idempotency.in_flight')
    detail = 'The first try is still being processed. Wait a moment, then press the button again.';

  const unplaced = [];
  let first = null;
  for (const e of Array.isArray(problem?.errors) ? problem.errors : []) {
    const control = controlFor(form, String(e.path ?? ''));
    if (!control) {
      unplaced.push(e);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    const line = document.getElementById(`${control.id}-error`);
    if (line) {
      const message = inWords(String(e.message ?? ''));
      line.textContent = line.textContent ? `${line.textContent} ${message}` : message;
      line.hidden = false;
    }
    first ??= control;
  }
  if (alert) {
    alert.append(h('p', { class: 'detail' }, detail));
    if (unplaced.length)
      alert.append(
        h(
          'ul',
          {},
          unplaced.map((e) => h('li', {}, `${e.path}: ${e.message}`)),
        ),
      );
    if (status === 412 && onReload) {
      alert.append(
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onClick: async () => {
              await onReload();
            },
          },
          'Reload',
        ),
      );
    }
    alert.hidden = false;
  }
  if (status === 412 && onReload) alert?.querySelector('button')?.focus();
  else if (first && typeof first.focus === 'function') first.focus();
  else if (first) first.querySelector('input, select, textarea')?.focus();
}

/**
 * One attempt per intended write: the same form contents send the same Idempotency-Key and the
 * same body (its "now" fixed at the first try), so a retry after a lost answer is never recorded
 * twice; changed contents, or a success, start a new attempt.
 */
export function attempts() {
  let pending = null;
  return {
    /** `snapshot`: the form as typed; `build()` makes the body the first time. */
    take(snapshot, build) {
      if (!pending || pending.snapshot !== snapshot) pending = { snapshot, key: newIdempotencyKey(), body: build() };
      return pending;
    },
    done() {
      pending = null;
    },
    /** A refusal the server answered in full wrote nothing and freed the key: the next try is a new attempt. */
    failed(err) {
      const answered = err instanceof ApiError && err.status >= 400 && err.status < 500 && err.code !== 'idempotency.in_flight';
      if (answered) pending = null;
    },
    get pending() {
      return pending !== null;
    },
  };
}

/**
 * Runs a form's submit once at a time, its problem shown; resolves to true on success. Buttons
 * are marked busy, not disabled, so the keyboard focus stays where it was.
 */
export async function submitting(form, fn, opts) {
  if (form.getAttribute('aria-busy') === 'true') return false;
  const buttons = [...form.querySelectorAll('button')];
  clearProblem(form);
  for (const b of buttons) b.setAttribute('aria-disabled', 'true');
  form.setAttribute('aria-busy', 'true');
  try {
    await fn();
    return true;
  } catch (err) {
    showProblem(form, err, opts);
    return false;
  } finally {
    for (const b of buttons) b.removeAttribute('aria-disabled');
    form.removeAttribute('aria-busy');
  }
}

/** Shows a success line in the form. */
export function said(form, text) {
  const status = form.querySelector('.form-status');
  if (status) status.textContent = text;
}
