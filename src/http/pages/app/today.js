// Today: the intervener's caseload, in the order GET /v1/me/caseload gives it (overdue
// follow-ups and unanswered replies first).

import { get } from './api.js';
import { badge, h, handleText, PLATFORMS, profileName, when, words } from './dom.js';

export async function renderToday() {
  const { items } = await get('/v1/me/caseload');
  const overdue = items.reduce((n, c) => n + c.overdueFollowUps, 0);
  const waiting = items.filter((c) => c.awaitingReply).length;
  const summary = items.length
    ? `${items.length} active ${items.length === 1 ? 'case' : 'cases'} · ${overdue} overdue follow-up${overdue === 1 ? '' : 's'} · ${waiting} waiting for your reply`
    : null;

  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Today'),
    summary ? h('p', { class: 'lede' }, summary) : null,
    items.length
      ? h('ul', { class: 'cards', 'aria-label': 'Your cases, most urgent first' }, items.map(caseCard))
      : h('p', { class: 'empty' }, 'No active cases. New assignments appear here and under Notifications.'),
  );
}

function caseCard(c) {
  const profile = { platform: c.platform, handle: c.handle, displayName: c.displayName };
  const handle = handleText(profile);
  return h(
    'li',
    { class: `card${c.overdueFollowUps ? ' urgent' : ''}` },
    h('h2', { class: 'card-title' }, h('a', { href: `#/case/${c.id}` }, profileName(profile))),
    h('p', { class: 'meta' }, [c.displayName && handle ? handle : null, PLATFORMS[c.platform] ?? c.platform].filter(Boolean).join(' · ')),
    h(
      'p',
      { class: 'badges' },
      c.overdueFollowUps ? badge(`${c.overdueFollowUps} overdue follow-up${c.overdueFollowUps === 1 ? '' : 's'}`, 'danger') : null,
      c.awaitingReply ? badge('Waiting for your reply', 'warn') : null,
      badge(`Stage: ${words(c.stage)}`),
      badge(`Risk: ${c.riskLevel}`, c.riskLevel === 'high' ? 'danger-soft' : 'plain'),
    ),
    h(
      'p',
      { class: 'meta' },
      c.lastTouchpointAt ? ['Last message ', when(c.lastTouchpointAt)] : 'No message logged yet',
      h('br'),
      c.nextFollowUpAt
        ? [Date.parse(c.nextFollowUpAt) < Date.now() ? 'Follow-up was due ' : 'Next follow-up ', when(c.nextFollowUpAt)]
        : 'No follow-up scheduled',
    ),
  );
}
