// The workbench: sign-in, navigation and routing by hash (`#/case/<id>`: case ids only, never a
// handle or a name in a URL). Each view is a module that builds its part of the page from /v1 calls.

import { ApiError, call, get, getAll, session, whenUnauthorized } from './api.js';
import { renderApprovals } from './approvals.js';
import { renderCase } from './case.js';
import { renderCases } from './cases.js';
import { fill, focusHeading, h, hiddenText } from './dom.js';
import { renderHolds } from './holds.js';
import { renderNotifications } from './notifications.js';
import { renderRequests } from './requests.js';
import { renderReviews } from './reviews.js';
import { renderSafeguarding } from './safeguarding.js';
import { renderMyAbsences, renderTeam } from './team.js';
import { renderToday } from './today.js';
import { renderTriage } from './triage.js';
import { renderDebriefs, renderMyWeek } from './welfare.js';

const $ = (id) => document.getElementById(id);
const el = {
  loading: $('loading'),
  signIn: $('sign-in'),
  signInForm: $('sign-in-form'),
  token: $('token'),
  tokenError: $('token-error'),
  who: $('who'),
  signOut: $('sign-out'),
  nav: $('nav'),
  view: $('view'),
  main: $('main'),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What each role works on, in the order the navigation shows it; the first is where they land. */
const NAV = {
  intervener: [
    ['today', 'Today'],
    ['week', 'My week'],
    ['absences', 'My absences'],
    ['reviews', 'Reviews'],
    ['notifications', 'Notifications'],
  ],
  analyst: [
    ['triage', 'Triage'],
    ['reviews', 'Reviews'],
    ['notifications', 'Notifications'],
  ],
  lead: [
    ['approvals', 'Approvals'],
    ['safeguarding', 'Safeguarding'],
    ['debriefs', 'Debriefs'],
    ['cases', 'Cases'],
    ['team', 'Team'],
    ['triage', 'Triage'],
    ['reviews', 'Reviews'],
    ['requests', 'Requests'],
    ['holds', 'Holds'],
    ['notifications', 'Notifications'],
  ],
  // Data-protection officers: their program's requests and holds, never a case's contents.
  dpo: [
    ['requests', 'Requests'],
    ['holds', 'Holds'],
    ['notifications', 'Notifications'],
  ],
  admin: [['notifications', 'Notifications']],
};

const VIEWS = {
  today: { roles: ['intervener'], render: renderToday },
  triage: { roles: ['analyst', 'lead'], render: renderTriage },
  approvals: { roles: ['lead'], render: renderApprovals },
  cases: { roles: ['lead'], render: renderCases },
  safeguarding: { roles: ['lead'], render: renderSafeguarding },
  team: { roles: ['lead'], render: renderTeam },
  absences: { roles: ['intervener'], render: renderMyAbsences },
  week: { roles: ['intervener'], render: renderMyWeek },
  debriefs: { roles: ['lead'], render: renderDebriefs },
  reviews: { roles: ['lead', 'analyst', 'intervener'], render: renderReviews },
  requests: { roles: ['dpo', 'lead'], render: renderRequests },
  holds: { roles: ['dpo', 'lead'], render: renderHolds },
  notifications: { roles: ['admin', 'lead', 'analyst', 'intervener', 'dpo'], render: renderNotifications },
  case: { roles: ['lead', 'analyst', 'intervener'], render: renderCase },
};

let me = null;
let staffNames = new Map();
let unreadTimer = null;
const leaving = [];
let routeSeq = 0;

/** What every view is given: who is signed in, names of colleagues, and how to move on. */
const ctx = {
  get me() {
    return me;
  },
  staffName(id) {
    if (!id) return 'nobody';
    if (me && id === me.id) return 'you';
    return staffNames.get(id) ?? 'a colleague';
  },
  /** Interveners of the program, for leads: `[{ id, name }]`. */
  get interveners() {
    return [...staffNames.entries()].map(([id, name]) => ({ id, name }));
  },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  /** Runs when the view is left (timers a view started). */
  onLeave(fn) {
    leaving.push(fn);
  },
  refreshUnread: () => refreshUnread(),
  rerender: () => route({ keepFocus: true }),
};

// ---- signing in ---------------------------------------------------------------------------

async function signIn(token) {
  const who = (await call('GET', '/v1/me', { bearer: token })).data;
  session.keep(token);
  me = who;
  staffNames = new Map();
  if (me.role === 'lead') {
    // Names for history, concerns and assignees; a lead may list its own program's staff.
    const staff = await getAll(`/v1/staff?programId=${encodeURIComponent(me.programId)}`).catch(() => []);
    staffNames = new Map(staff.map((s) => [s.id, s.name]));
  }
  showShell();
}

function signOut(message, { clearRoute = false } = {}) {
  session.forget();
  me = null;
  staffNames = new Map();
  clearInterval(unreadTimer);
  runLeaving();
  el.view.replaceChildren();
  el.view.hidden = true;
  el.nav.hidden = true;
  el.who.hidden = true;
  el.signOut.hidden = true;
  el.loading.hidden = true;
  el.signIn.hidden = false;
  setTokenError(message ?? '');
  document.title = 'Sign in · Overture workbench';
  // A deliberate sign-out leaves nothing of the last case in the address bar.
  if (clearRoute && location.hash) history.replaceState(null, '', location.pathname);
  el.token.focus();
}

function setTokenError(text) {
  el.tokenError.textContent = text;
  el.tokenError.hidden = !text;
  if (text) el.token.setAttribute('aria-invalid', 'true');
  else el.token.removeAttribute('aria-invalid');
}

function showShell() {
  el.loading.hidden = true;
  el.signIn.hidden = true;
  el.token.value = '';
  setTokenError('');
  el.who.replaceChildren('Signed in as ', h('strong', {}, me.name), ` (${me.role})`);
  el.who.hidden = false;
  el.signOut.hidden = false;
  renderNav();
  el.nav.hidden = false;
  el.view.hidden = false;
  clearInterval(unreadTimer);
  refreshUnread();
  unreadTimer = setInterval(refreshUnread, 60_000);
  route();
}

// ---- navigation ---------------------------------------------------------------------------

function renderNav() {
  const items = (NAV[me.role] ?? []).map(([key, label]) => {
    const link = h('a', { href: `#/${key}`, dataset: { view: key } }, label);
    if (key === 'notifications') link.append(' ', h('span', { class: 'count', id: 'unread-count', hidden: true }));
    return h('li', {}, link);
  });
  // Leads read the engagement report on its own page (same origin, same tab: the token comes along).
  if (me.role === 'lead') items.push(h('li', {}, h('a', { href: '/reports' }, 'Reports')));
  el.nav.querySelector('ul').replaceChildren(...items);
}

function markCurrent(view) {
  for (const a of el.nav.querySelectorAll('a[data-view]')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function refreshUnread() {
  if (!me) return;
  try {
    const page = await get('/v1/me/notifications?unread=true&limit=200');
    const n = page.items.length;
    const count = $('unread-count');
    if (!count) return;
    // The number shows; "unread" is read out with it (the link reads "Notifications 3 unread").
    fill(count, n ? `${n}${page.nextCursor ? '+' : ''}` : '', n ? hiddenText(' unread') : null);
    count.hidden = n === 0;
  } catch {
    // The count is a convenience: the Notifications page says what went wrong.
  }
}

// ---- routing ------------------------------------------------------------------------------

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  return { view: parts[0] ?? '', param: parts[1] ?? null };
}

function runLeaving() {
  for (const fn of leaving.splice(0)) {
    try {
      fn();
    } catch {
      // A view's cleanup never stops the next view.
    }
  }
}

async function route({ keepFocus = false } = {}) {
  if (!me) return;
  const seq = ++routeSeq;
  runLeaving();
  let { view, param } = parseHash();
  if (!view) {
    const home = NAV[me.role]?.[0]?.[0];
    if (home) {
      history.replaceState(null, '', `#/${home}`);
      view = home;
    }
  }
  // A request opened keeps Requests marked; a case is no one place of the navigation.
  markCurrent(view === 'case' ? null : view);
  const spec = VIEWS[view];
  el.view.setAttribute('aria-busy', 'true');
  let root;
  if (!spec || ((view === 'case' || (view === 'requests' && param)) && !UUID.test(param ?? ''))) {
    root = message('Not found', 'There is no such page in the workbench. Use the links above.');
  } else if (!spec.roles.includes(me.role)) {
    root = message('Not for your role', `This page is for ${spec.roles.join(', ')}s; you are signed in as ${me.role}.`);
  } else {
    try {
      root = await spec.render(ctx, param);
    } catch (err) {
      root = failed(view, err);
    }
  }
  // A later navigation won while this one was loading.
  if (seq !== routeSeq) return;
  el.view.replaceChildren(root);
  el.view.removeAttribute('aria-busy');
  const heading = root.querySelector('h1')?.textContent ?? 'Workbench';
  document.title = `${heading} · Overture workbench`;
  if (!keepFocus) focusHeading(root);
  refreshUnread();
}

function message(title, text) {
  return h('section', { class: 'view' }, h('h1', {}, title), h('p', {}, text));
}

function failed(view, err) {
  const titles = {
    case: 'Case',
    today: 'Today',
    triage: 'Triage',
    approvals: 'Approvals',
    safeguarding: 'Safeguarding',
    team: 'Team',
    absences: 'My absences',
    week: 'My week',
    debriefs: 'Debriefs',
    reviews: 'Reviews',
    requests: 'Requests',
    holds: 'Holds',
  };
  const title = titles[view] ?? 'Workbench';
  if (err instanceof ApiError && err.status === 404 && view === 'case') {
    return message(title, 'This case does not exist or is not yours to see (cases you no longer hold leave your workbench).');
  }
  if (err instanceof ApiError && err.status === 404 && view === 'requests') {
    return message(title, 'This request does not exist, or belongs to another program.');
  }
  const detail = err instanceof ApiError ? err.message : `Something went wrong in the page: ${err.message}`;
  return h(
    'section',
    { class: 'view' },
    h('h1', {}, title),
    h('div', { class: 'form-alert', role: 'alert' }, h('p', { class: 'detail' }, detail)),
    h('p', {}, h('button', { type: 'button', class: 'secondary', onClick: () => route() }, 'Try again')),
  );
}

// ---- wiring -------------------------------------------------------------------------------

function init() {
  whenUnauthorized(() =>
    signOut('Your token was refused (revoked, expired, or its holder deactivated). Sign in with a current one.', { clearRoute: true }),
  );

  el.signInForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = el.token.value.trim();
    if (!token) {
      setTokenError('Paste your personal access token (it starts with ovt_).');
      el.token.focus();
      return;
    }
    const button = el.signInForm.querySelector('button');
    button.setAttribute('aria-disabled', 'true');
    try {
      await signIn(token);
    } catch (err) {
      setTokenError(
        err instanceof ApiError && err.status === 401 ? 'This token was not accepted: check it, or ask for a new one.' : err.message,
      );
      el.token.focus();
    } finally {
      button.removeAttribute('aria-disabled');
    }
  });
  el.signOut.addEventListener('click', () => signOut('', { clearRoute: true }));
  window.addEventListener('hashchange', () => {
    // Only the workbench's own routes (`#/…`) navigate; anything else is left alone.
    if (location.hash === '' || location.hash.startsWith('#/')) route();
  });
  document.querySelector('.skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    el.main.focus();
  });

  const saved = session.token();
  if (!saved) {
    signOut();
    return;
  }
  signIn(saved).catch((err) => {
    signOut(err instanceof ApiError && err.status === 401 ? 'Your saved token was refused. Sign in again.' : err.message);
  });
}

init();
