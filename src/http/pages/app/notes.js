// Case notes on the case page: the notes the caller may read, newest first, and a form to add
// one. A lead may write a note only leads read; an intervener's notes are always for the case.

import { ApiError, getAll, post } from './api.js';
import { badge, fill, h, when, words } from './dom.js';
import { attempts, field, formAlert, nextId, select, submitting } from './forms.js';

const KINDS = [
  ['general', 'general'],
  ['handover', 'handover'],
  ['supervision', 'supervision'],
];
const VISIBILITIES = [
  ['case', 'the case: its holder and the leads'],
  ['leads', 'leads only'],
];
const NOTE_MAX = 2000;

/** The Notes section for case `c` (null for a role that reads no case notes). */
export async function notesSection(ctx, c) {
  const role = ctx.me.role;
  if (role !== 'lead' && role !== 'intervener') return null;
  let notes = [];
  const load = async () => {
    notes = await getAll(`/v1/cases/${c.id}/notes`, 400);
  };
  const list = h('div', { class: 'note-list' });
  const render = () =>
    fill(
      list,
      notes.length
        ? h(
            'ol',
            { class: 'timeline notes' },
            notes.map((n) =>
              h(
                'li',
                { class: `tp note note-${n.visibility}` },
                h(
                  'p',
                  { class: 'tp-head' },
                  h('strong', {}, `${words(n.kind)[0].toUpperCase()}${words(n.kind).slice(1)} note`),
                  n.visibility === 'leads' ? [' ', badge('leads only', 'warn')] : null,
                  ` · by ${ctx.staffName(n.authorId)} · `,
                  when(n.createdAt),
                ),
                n.body === null ? h('p', { class: 'meta' }, 'Text erased with the case.') : h('p', { class: 'tp-summary' }, lines(n.body)),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No note on this case yet.'),
    );
  await load();
  render();

  const writable = !c.erased && (role === 'lead' || c.status === 'active');
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'notes-heading' },
    h('h2', { id: 'notes-heading' }, 'Notes'),
    list,
    writable
      ? writer(c.id, role, async () => {
          await load();
          render();
        })
      : null,
  );
}

/**
 * "Write a note" opens the form in place (built fresh each time, so the page's other Kind and
 * Note fields have no twin until a note is being written); Cancel or a saved note closes it.
 */
function writer(caseId, role, reload) {
  const slotId = nextId('note-form');
  const slot = h('div', { id: slotId });
  const status = h('p', { class: 'form-status', role: 'status' });
  const opener = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': slotId }, 'Write a note');
  const open = (yes) => {
    opener.hidden = yes;
    opener.setAttribute('aria-expanded', String(yes));
    if (yes) {
      status.textContent = '';
      const form = noteForm(caseId, role, {
        cancel: () => open(false),
        saved: async (text) => {
          open(false);
          status.textContent = text;
          try {
            await reload();
          } catch (err) {
            status.textContent = `${text} The list could not be brought up to date: ${err.message} Reload the page.`;
          }
        },
      });
      fill(slot, form);
      form.querySelector('select')?.focus();
    } else {
      fill(slot);
      opener.focus();
    }
  };
  opener.addEventListener('click', () => open(true));
  return h('div', { class: 'note-writer' }, h('div', { class: 'actions' }, opener), status, slot);
}

/** Line breaks as typed, never parsed as HTML. */
function lines(text) {
  return text.split('\n').flatMap((line, i) => (i === 0 ? [line] : [h('br', {}), line]));
}

function noteForm(caseId, role, { cancel, saved }) {
  const kind = select(KINDS, { value: 'general' });
  const body = h('textarea', { rows: 3, maxlength: NOTE_MAX });
  // Interveners always write for the case: the choice is a lead's alone.
  const visibility = role === 'lead' ? select(VISIBILITIES, { value: 'case' }) : null;
  const tries = attempts();
  const cancelButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h(
    'form',
    { class: 'subform', novalidate: true, 'aria-labelledby': 'note-form-heading' },
    h('h3', { id: 'note-form-heading' }, 'New note'),
    field('Kind', kind, { path: 'kind' }),
    field('Note', body, { path: 'body', hint: `Up to ${NOTE_MAX} characters. No names, handles or links.` }),
    visibility
      ? field('Visibility', visibility, { path: 'visibility', hint: 'Leads only: interveners never see it.' })
      : h('p', { class: 'hint' }, 'Your notes are read by whoever holds the case and by the program’s leads.'),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add note'), cancelButton),
  );
  cancelButton.addEventListener('click', cancel);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = visibility?.value ?? 'case';
    const ok = await submitting(
      form,
      async () => {
        if (!body.value.trim()) {
          throw new ApiError(400, { detail: 'Write the note first.', errors: [{ path: 'body', message: 'This is needed.' }] });
        }
        const attempt = tries.take(JSON.stringify([kind.value, body.value, chosen]), () => ({
          kind: kind.value,
          body: body.value.trim(),
          visibility: chosen,
        }));
        await post(`/v1/cases/${caseId}/notes`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
          tries.failed(err);
          throw err;
        });
        tries.done();
      },
      { retrySafe: true, action: 'Add note' },
    );
    if (!ok) return;
    await saved(chosen === 'leads' ? 'Note added, for leads only.' : 'Note added.');
  });
  return form;
}
