// Approvals (leads): accepted cases waiting for approval of first contact, and approved cases
// waiting to be assigned (assigning, with the ranked candidates, is on the case page).

import { get, getAll, post } from './api.js';
import { fill, h, handleText, IDEOLOGIES, PLATFORMS, profileName, when, words } from './dom.js';
import { field, formAlert, nextId, submitting } from './forms.js';

export async function renderApprovals(ctx) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const waiting = h('div');
  const ready = h('div');
  const program = await get(`/v1/programs/${ctx.me.programId}`);
  const requireApproval = program.settings?.requireApproval !== false;

  async function load() {
    const [accepted, approved] = await Promise.all([getAll('/v1/cases?status=accepted', 400), getAll('/v1/cases?status=approved', 400)]);
    const toApprove = requireApproval ? accepted : [];
    const toAssign = requireApproval ? approved : [...accepted, ...approved];
    fill(
      waiting,
      toApprove.length
        ? h(
            'div',
            { class: 'cards' },
            toApprove.map((c) => approvalCard(c, load, status)),
          )
        : h(
            'p',
            { class: 'empty' },
            requireApproval ? 'Nothing is waiting for approval.' : 'This program does not require approval before assignment.',
          ),
    );
    fill(
      ready,
      toAssign.length
        ? h(
            'ul',
            { class: 'cards' },
            toAssign.map((c) =>
              h(
                'li',
                { class: 'card' },
                h('h3', { class: 'card-title' }, h('a', { href: `#/case/${c.id}` }, profileName(c.profile))),
                h(
                  'p',
                  { class: 'meta' },
                  summary(c),
                  ' · ',
                  c.approvedAt ? ['approved ', when(c.approvedAt)] : ['accepted ', when(c.acceptedAt)],
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No case is waiting to be assigned.'),
    );
  }
  await load();

  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Approvals'),
    h('p', { class: 'lede' }, 'Approve first contact, then open the case to assign it from the ranked candidates.'),
    status,
    h(
      'section',
      { 'aria-labelledby': 'approve-list-heading' },
      h('h2', { id: 'approve-list-heading', tabindex: '-1' }, 'Waiting for approval'),
      waiting,
    ),
    h('section', { 'aria-labelledby': 'assign-list-heading' }, h('h2', { id: 'assign-list-heading' }, 'Ready to assign'), ready),
  );
}

function summary(c) {
  const handle = handleText(c.profile);
  return [c.profile.displayName && handle ? handle : null, PLATFORMS[c.profile.platform], IDEOLOGIES[c.ideology], `risk ${c.riskLevel}`]
    .filter(Boolean)
    .join(' · ');
}

function approvalCard(c, reload, status) {
  const titleId = nextId('a');
  const note = h('textarea', { rows: 2, maxlength: 1000 });
  const approve = h('button', { type: 'button' }, 'Approve');
  const card = h(
    'article',
    { class: 'card', 'aria-labelledby': titleId },
    h('h3', { id: titleId, class: 'card-title' }, h('a', { href: `#/case/${c.id}` }, profileName(c.profile))),
    h('p', { class: 'meta' }, summary(c), h('br'), 'Accepted ', when(c.acceptedAt)),
    c.indicators.length ? h('p', { class: 'meta' }, `Indicators: ${c.indicators.map((i) => words(i.kind)).join(', ')}`) : null,
    field('Note', note, { path: 'note', hint: 'Optional: guidance for whoever takes the case.' }),
    formAlert(),
    h('div', { class: 'actions' }, approve),
  );
  approve.addEventListener('click', async () => {
    const ok = await submitting(card, () => post(`/v1/cases/${c.id}/approve`, note.value.trim() ? { note: note.value.trim() } : {}));
    if (!ok) return;
    await reload();
    status.textContent = `Approved: ${profileName(c.profile)}. It is now under “Ready to assign”.`;
    document.getElementById('approve-list-heading')?.focus();
  });
  return card;
}
