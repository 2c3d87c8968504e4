// Notifications: the caller's own inbox, newest first; unread ones can be marked read.

import { getAll, post } from './api.js';
import { badge, fill, h, when } from './dom.js';
import { formAlert, submitting } from './forms.js';

const KINDS = {
  follow_up_due: 'A follow-up is due',
  follow_up_overdue: 'A follow-up is overdue',
  no_contact: 'No contact for a while',
  response_overdue: 'A reply is waiting for an answer',
  safeguarding_raised: 'Safeguarding concern raised',
  safeguarding_unacknowledged: 'Safeguarding concern not yet acknowledged',
  case_assigned: 'A case was assigned to you',
  caseload_orphaned: 'An intervener with active cases was deactivated: hand their cases over',
  review_requested: 'A closed case is waiting for an outcome review',
  debrief_due: 'A debrief is owed after a distressing contact',
  debrief_overdue: 'A debrief is overdue',
  supervision_due: 'Supervision is due',
  dsr_due_soon: 'A data-subject request is due within a week',
  dsr_overdue: 'A data-subject request is overdue',
};

/** Not about one case: welfare ones are about a person (a lead's queue or Team page, an intervener's My week), DSR ones about a request. */
const WELFARE_PAGES = {
  debrief_due: { lead: '#/debriefs', intervener: '#/week' },
  debrief_overdue: { lead: '#/debriefs', intervener: '#/week' },
  supervision_due: { lead: '#/team', intervener: '#/week' },
  // About a request, not a case: the Requests page lists it by its deadline.
  dsr_due_soon: { lead: '#/requests', dpo: '#/requests' },
  dsr_overdue: { lead: '#/requests', dpo: '#/requests' },
};

export async function renderNotifications(ctx) {
  const list = h('div');
  const status = h('p', { class: 'form-status', role: 'status' });
  const canOpen = ['lead', 'analyst', 'intervener'].includes(ctx.me.role);

  async function load() {
    const items = await getAll('/v1/me/notifications', 100);
    const unread = items.filter((n) => !n.readAt);
    fill(
      list,
      unread.length > 1 ? h('p', {}, markAll(unread)) : null,
      items.length ? h('ul', { class: 'notes' }, items.map(item)) : h('p', { class: 'empty' }, 'No notifications.'),
    );
    ctx.refreshUnread();
  }

  function markAll(unread) {
    const button = h('button', { type: 'button', class: 'secondary' }, `Mark all ${unread.length} read`);
    const box = h('span', {}, formAlert(), button);
    button.addEventListener('click', async () => {
      const ok = await submitting(box, () => Promise.all(unread.map((n) => post(`/v1/me/notifications/${n.id}/read`))));
      if (!ok) return;
      await load();
      status.textContent = 'All marked read.';
    });
    return box;
  }

  function item(n) {
    const text =
      n.kind === 'case_assigned' && n.hasHandoverNote ? `${KINDS.case_assigned}, with a handover note` : (KINDS[n.kind] ?? n.kind);
    // Not about one case: the Team page lists the cases waiting for a handover.
    const onTeam = n.kind === 'caseload_orphaned' && ctx.me.role === 'lead';
    const welfarePage = WELFARE_PAGES[n.kind]?.[ctx.me.role];
    const li = h(
      'li',
      { class: `note${n.readAt ? '' : ' unread'}` },
      h(
        'p',
        {},
        n.readAt ? null : [badge('unread', 'warn'), ' '],
        // A reviewer never held the case: the Reviews page is where it is reviewed.
        n.kind === 'review_requested'
          ? h('a', { href: '#/reviews' }, text)
          : welfarePage
            ? h('a', { href: welfarePage }, text)
            : n.caseId && canOpen
              ? h('a', { href: `#/case/${n.caseId}` }, text)
              : onTeam
                ? h('a', { href: '#/team' }, text)
                : h('strong', {}, text),
      ),
      h('p', { class: 'meta' }, when(n.createdAt)),
    );
    if (!n.readAt) {
      const read = h('button', { type: 'button', class: 'secondary small' }, 'Mark read');
      li.append(formAlert(), read);
      read.addEventListener('click', async () => {
        const ok = await submitting(li, () => post(`/v1/me/notifications/${n.id}/read`));
        if (!ok) return;
        await load();
        status.textContent = 'Marked read.';
      });
      // Opening the case it is about reads it too.
      li.querySelector('a')?.addEventListener('click', () => {
        post(`/v1/me/notifications/${n.id}/read`)
          .then(() => ctx.refreshUnread())
          .catch(() => {});
      });
    }
    return li;
  }

  await load();
  return h('section', { class: 'view' }, h('h1', {}, 'Notifications'), status, list);
}
