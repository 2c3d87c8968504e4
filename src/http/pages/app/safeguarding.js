// Safeguarding (leads): open concerns first, each acknowledged here; then the latest acknowledged.

import { ApiError, call, getAll, post } from './api.js';
import { badge, fill, h, profileName, when } from './dom.js';
import { field, formAlert, nextId, submitting } from './forms.js';

export async function renderSafeguarding(ctx) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const openList = h('div');
  const doneList = h('div');

  async function load() {
    const [open, acknowledged] = await Promise.all([
      getAll('/v1/safeguarding?status=open', 400),
      getAll('/v1/safeguarding?status=acknowledged', 50),
    ]);
    const names = await caseNames([...open, ...acknowledged.slice(0, 20)].map((c) => c.caseId));
    fill(
      openList,
      open.length
        ? h(
            'div',
            { class: 'cards' },
            open.map((c) => concernCard(ctx, c, names, load, status)),
          )
        : h('p', { class: 'empty' }, 'No open concern.'),
    );
    fill(
      doneList,
      acknowledged.length
        ? h(
            'ul',
            { class: 'plain-list' },
            acknowledged
              .slice(0, 20)
              .map((c) =>
                h(
                  'li',
                  {},
                  badge(c.severity, c.severity === 'urgent' ? 'danger' : 'danger-soft'),
                  ' ',
                  h('a', { href: `#/case/${c.caseId}` }, names.get(c.caseId) ?? 'Case'),
                  ' · acknowledged by ',
                  ctx.staffName(c.acknowledgedBy),
                  ' ',
                  when(c.acknowledgedAt),
                ),
              ),
          )
        : h('p', { class: 'empty' }, 'None yet.'),
    );
  }
  await load();

  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Safeguarding'),
    h('p', { class: 'lede' }, 'Acknowledging a concern tells the others you have it in hand and stops its reminders.'),
    status,
    h(
      'section',
      { 'aria-labelledby': 'open-concerns-heading' },
      h('h2', { id: 'open-concerns-heading', tabindex: '-1' }, 'Open'),
      openList,
    ),
    h('section', { 'aria-labelledby': 'ack-concerns-heading' }, h('h2', { id: 'ack-concerns-heading' }, 'Recently acknowledged'), doneList),
  );
}

/** Who each concern is about, as the lead would name them (one read per case, audited as such). */
async function caseNames(ids) {
  const names = new Map();
  await Promise.all(
    [...new Set(ids)].map(async (id) => {
      try {
        names.set(id, profileName((await call('GET', `/v1/cases/${id}`)).data.profile));
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
      }
    }),
  );
  return names;
}

function concernCard(ctx, c, names, reload, status) {
  const titleId = nextId('s');
  const note = h('textarea', { rows: 2, maxlength: 2000 });
  const ack = h('button', { type: 'button' }, 'Acknowledge');
  const name = names.get(c.caseId) ?? 'Case';
  const card = h(
    'article',
    { class: `card concern-card concern-${c.severity}`, 'aria-labelledby': titleId },
    h(
      'h3',
      { id: titleId, class: 'card-title' },
      badge(c.severity, c.severity === 'urgent' ? 'danger' : 'danger-soft'),
      ' ',
      h('a', { href: `#/case/${c.caseId}` }, name),
    ),
    h('p', { class: 'meta' }, 'Raised ', when(c.raisedAt), ` by ${ctx.staffName(c.raisedBy)}`),
    c.concern ? h('p', {}, c.concern) : null,
    c.actionTaken ? h('p', { class: 'meta' }, `Action taken: ${c.actionTaken}`) : null,
    field('Note', note, { path: 'note', hint: 'Optional: what you will do.' }),
    formAlert(),
    h('div', { class: 'actions' }, ack),
  );
  ack.addEventListener('click', async () => {
    const ok = await submitting(card, () =>
      post(`/v1/safeguarding/${c.id}/acknowledge`, note.value.trim() ? { note: note.value.trim() } : {}),
    );
    if (!ok) return;
    await reload();
    status.textContent = `Acknowledged: the concern about ${name}.`;
    document.getElementById('open-concerns-heading')?.focus();
  });
  return card;
}
