// Cases (leads): the program's cases by status, to open one and close, reopen or reassign it.

import { getAll } from './api.js';
import { badge, fill, h, handleText, IDEOLOGIES, PLATFORMS, profileName, when, words } from './dom.js';
import { field, select } from './forms.js';

const STATUSES = ['active', 'approved', 'accepted', 'flagged', 'closed', 'rejected'];
let lastStatus = 'active';

export async function renderCases(ctx) {
  const list = h('div', { 'aria-live': 'polite' });
  const status = select(
    STATUSES.map((s) => [s, s]),
    { value: lastStatus },
  );

  async function load() {
    list.setAttribute('aria-busy', 'true');
    const cases = await getAll(`/v1/cases?status=${encodeURIComponent(status.value)}`, 400);
    fill(
      list,
      cases.length
        ? h(
            'ul',
            { class: 'cards' },
            cases.map((c) => {
              const handle = handleText(c.profile);
              return h(
                'li',
                { class: 'card' },
                h('h2', { class: 'card-title' }, h('a', { href: `#/case/${c.id}` }, profileName(c.profile))),
                h(
                  'p',
                  { class: 'meta' },
                  [c.profile.displayName && handle ? handle : null, PLATFORMS[c.profile.platform], IDEOLOGIES[c.ideology]]
                    .filter(Boolean)
                    .join(' · '),
                ),
                h(
                  'p',
                  { class: 'badges' },
                  badge(`Stage: ${words(c.stage)}`),
                  badge(`Risk: ${c.riskLevel}`, c.riskLevel === 'high' ? 'danger-soft' : 'plain'),
                  c.assigneeId && c.status === 'active' ? badge(`Held by ${ctx.staffName(c.assigneeId)}`) : null,
                ),
                c.lastTouchpointAt ? h('p', { class: 'meta' }, 'Last message ', when(c.lastTouchpointAt)) : null,
              );
            }),
          )
        : h('p', { class: 'empty' }, `No ${status.value} case.`),
    );
    list.removeAttribute('aria-busy');
  }
  status.addEventListener('change', () => {
    lastStatus = status.value;
    load().catch((err) => fill(list, h('div', { class: 'form-alert', role: 'alert' }, h('p', { class: 'detail' }, err.message))));
  });
  await load();

  return h('section', { class: 'view' }, h('h1', {}, 'Cases'), h('div', { class: 'filters' }, field('Status', status)), list);
}
