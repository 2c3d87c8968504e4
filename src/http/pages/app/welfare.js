// Looking after the people doing the work: My week for an intervener (time with hostile content
// against the weekly cap, logging time, debriefs, supervision, topics they opt out of), the
// leads' debrief queue, and recording a supervision session on the Team page. Welfare data is
// about staff: only the person and their program's leads see it (the API answers no one else).

import { ApiError, call, get, getAll, post } from './api.js';
import { badge, fill, fromLocalInput, h, hiddenText, IDEOLOGIES, profileName, toLocalInput, when } from './dom.js';
import { attempts, checkboxes, checked, field, formAlert, formStatus, nextId, said, select, submitting } from './forms.js';

const ACTIVITIES = [
  ['messaging', 'Messaging', 'threads, replies'],
  ['research', 'Research', 'profiles, posts'],
  ['reading', 'Reading', 'material, videos'],
];
const FORMATS = [
  ['individual', 'individual'],
  ['group', 'group'],
  ['peer', 'peer'],
];
const REASONS = {
  distressing_touchpoint: 'after a message marked distressing',
  hostile_touchpoint: 'after a hostile message',
  safeguarding_concern: 'after raising a safeguarding concern',
  unsafe_closure: 'after a case closed as unsafe to continue',
};
const reasonWords = (r) => REASONS[r] ?? r;
const plural = (n, one) => `${n} ${n === 1 ? one : `${one}s`}`;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Past this share of the cap, My week says so gently. */
const NEARLY = 0.75;

/** "5 h 20 min", "8 h", "45 min". */
export function durationText(minutes) {
  const m = Math.max(0, Math.round(minutes));
  const hours = Math.floor(m / 60);
  const rest = m % 60;
  if (!hours) return `${rest} min`;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/**
 * Minutes as a person types them on a phone: `45`, `45 min`, `1h`, `1 h 20`, `1h20m`, `1:20`,
 * `1.5 h` (or `1,5 h`). Null when empty, NaN when unreadable.
 */
export function parseMinutes(text) {
  const s = String(text ?? '')
    .trim()
    .toLowerCase()
    .replace(',', '.');
  if (!s) return null;
  const MIN = '(?:m|min|mins|minute|minutes)';
  let m = /^(\d{1,3}):([0-5]\d)$/.exec(s);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  m = new RegExp(`^(\\d+(?:\\.\\d+)?)\\s*${MIN}?$`).exec(s);
  if (m) return Math.round(Number(m[1]));
  m = new RegExp(`^(\\d+(?:\\.\\d+)?)\\s*(?:h|hr|hrs|hour|hours)\\s*(?:(\\d+)\\s*${MIN}?)?$`).exec(s);
  if (m) return Math.round(Number(m[1]) * 60 + (m[2] ? Number(m[2]) : 0));
  return Number.NaN;
}

/** The field error for minutes that cannot be sent, or null: `min`–`max` whole minutes. */
export function minutesProblem(value, { min, max }) {
  if (value === null) return 'This is needed.';
  if (Number.isNaN(value)) return 'Give the minutes as a number, e.g. 20, 1 h 15 or 1:15.';
  if (value < min) return `At least ${min} minute${min === 1 ? '' : 's'}.`;
  if (value > max) return `At most ${max} minutes (${durationText(max)}) at a time.`;
  return null;
}

/** A field refusal the page knows before asking the server, shown as the server's would be. */
const refusal = (errors) => new ApiError(400, { detail: 'Some fields need attention: see below.', errors });

/** A text box for minutes: digits keyboard on a phone, forgiving of how the time is written. */
function minutesInput() {
  return h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', class: 'minutes-input' });
}

/** A datetime-local control that stays "now" while untouched and no retry is waiting. */
function nowInput(ctx, tries) {
  const input = h('input', { type: 'datetime-local' });
  const state = { touched: false };
  input.addEventListener('input', () => {
    state.touched = true;
  });
  const reset = () => {
    input.value = toLocalInput(new Date());
    state.touched = false;
  };
  reset();
  const tick = setInterval(() => {
    if (!state.touched && !tries.pending) input.value = toLocalInput(new Date());
  }, 30_000);
  ctx.onLeave(() => clearInterval(tick));
  return {
    input,
    reset,
    get touched() {
      return state.touched;
    },
    /** The instant to send: the typed one, else now (fixed at the first try by `attempts`). */
    value: () => (state.touched ? fromLocalInput(input.value) : new Date().toISOString()),
  };
}

/** A bar drawn for the eye only: the words beside it say the same. */
function bar(share, { over = false } = {}) {
  const fillEl = h('span', { class: `meter-fill${over ? ' meter-over' : ''}` });
  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  fillEl.style.width = `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%`;
  return h('span', { class: 'meter', 'aria-hidden': 'true' }, fillEl);
}

/** Radio buttons drawn as one row of segments (as on the assessment form), big enough for a thumb. */
function segments(legend, options, { path, name, hint }) {
  const id = nextId('seg');
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  return h(
    'fieldset',
    {
      class: 'field segmented-field activity-field',
      id,
      'aria-labelledby': `${id}-legend`,
      'aria-describedby': [hintEl?.id, errorEl.id].filter(Boolean).join(' '),
      dataset: { path },
    },
    h('legend', { id: `${id}-legend` }, legend),
    hintEl,
    h(
      'div',
      { class: `segmented segmented-${options.length}` },
      options.map(([v, big, small]) => {
        const radio = h('input', { type: 'radio', name, value: v, id: nextId('r') });
        return h(
          'label',
          { class: 'segment', for: radio.id },
          radio,
          h('span', { class: 'segment-big' }, big),
          small ? h('span', { class: 'segment-small' }, small) : null,
        );
      }),
    ),
    errorEl,
  );
}
const chosen = (group) => group.querySelector('input[type=radio]:checked')?.value ?? null;

// ---- My week (interveners) ------------------------------------------------------------------

export async function renderMyWeek(ctx) {
  const me = ctx.me;
  let welfare = null;
  let debriefs = [];
  let sessions = [];

  async function load() {
    [welfare, debriefs, sessions] = await Promise.all([
      get('/v1/me/welfare'),
      getAll('/v1/debriefs?status=pending', 200),
      get(`/v1/staff/${me.id}/supervision-sessions?limit=5`).then((p) => p.items),
    ]);
  }

  const exposureBox = h('div');
  const debriefBox = h('div');
  const supervisionBox = h('div');

  function drawExposure() {
    const { exposureMinutes: used, capMinutes: cap, overCap } = welfare;
    const share = cap > 0 ? used / cap : 1;
    const nextWeek = new Date(Date.parse(welfare.weekStart) + WEEK_MS).toISOString();
    fill(
      exposureBox,
      h(
        'p',
        { class: 'exposure-figure' },
        h('strong', {}, durationText(used)),
        ` of ${durationText(cap)} this week`,
        overCap && used > cap ? `: ${durationText(used - cap)} over the cap` : '',
      ),
      bar(share, { over: overCap }),
      overCap
        ? h(
            'div',
            { class: 'callout callout-care' },
            h('p', { class: 'callout-title' }, h('strong', {}, 'You have reached this week’s cap.')),
            h(
              'p',
              {},
              'New cases now need a lead’s OK, so nothing more lands on you by surprise. Please look after yourself: ' +
                'step away from the content for a while, and talk to a lead if something has stayed with you.',
            ),
          )
        : share >= NEARLY
          ? h('p', { class: 'meta' }, `Nearly at the cap: ${durationText(cap - used)} left this week. Pace yourself.`)
          : null,
      h(
        'p',
        { class: 'meta' },
        'Counts the minutes you give with each message and the time you log below, Monday to Sunday (UTC). A new week starts ',
        when(nextWeek),
        '.',
      ),
    );
  }

  function drawDebriefs() {
    const n = welfare.debriefsPending;
    fill(
      debriefBox,
      h(
        'p',
        {},
        n
          ? `${plural(n, 'debrief')} waiting: a lead will get in touch to talk it through. You do not need to prepare anything.`
          : 'No debrief is waiting.',
      ),
      debriefs.length
        ? h(
            'ul',
            { class: 'plain-list', 'aria-label': 'Debriefs waiting' },
            debriefs.map((d) =>
              h(
                'li',
                {},
                `A debrief ${reasonWords(d.reason)}`,
                d.caseId ? [' (', h('a', { href: `#/case/${d.caseId}` }, 'the case'), ')'] : null,
                Date.parse(d.dueAt) < Date.now()
                  ? ['; it was due ', when(d.dueAt), ': say so to a lead if nobody has been in touch.']
                  : ['; due by ', when(d.dueAt), '.'],
              ),
            ),
          )
        : null,
    );
  }

  function drawSupervision() {
    const got = welfare.supervisionMinutesThisPeriod;
    const need = welfare.supervisionMinMinutes;
    const met = got >= need;
    fill(
      supervisionBox,
      h('p', { class: 'exposure-figure' }, h('strong', {}, `${got} of ${need} minutes`), ' this period'),
      bar(need > 0 ? got / need : 1),
      h(
        'p',
        {},
        met ? 'This period’s minimum is met. The next is due by ' : 'Due by ',
        when(welfare.supervisionDueAt),
        '.',
        h('br'),
        welfare.lastSupervisionAt ? ['Last session: ', when(welfare.lastSupervisionAt), '.'] : 'No session recorded yet.',
      ),
      sessions.length
        ? h(
            'ul',
            { class: 'plain-list', 'aria-label': 'Recent sessions' },
            sessions.map((s) => h('li', {}, when(s.at), ` · ${s.minutes} min, ${s.format}`)),
          )
        : null,
      h('p', { class: 'meta' }, 'A lead records each session. Ask for one whenever you need it, not only when it is due.'),
    );
  }

  function draw() {
    drawExposure();
    drawDebriefs();
    drawSupervision();
  }

  async function reload() {
    await load();
    draw();
  }

  // ---- logging time ----
  const tries = attempts();
  const minutes = minutesInput();
  const activity = segments('What was it', ACTIVITIES, { path: 'activity', name: nextId('activity') });
  const at = nowInput(ctx, tries);
  const quick = h(
    'div',
    { class: 'quick-minutes', role: 'group', 'aria-label': 'Quick choices for minutes' },
    [15, 30, 60].map((n) =>
      h(
        'button',
        {
          type: 'button',
          class: 'secondary small',
          onClick: () => {
            minutes.value = String(n);
            minutes.focus();
          },
        },
        durationText(n),
      ),
    ),
  );
  const minutesField = field('Minutes', minutes, { path: 'minutes', hint: 'e.g. 45, 1 h 20 or 1:20; at most 10 h at a time.' });
  minutesField.insertBefore(quick, minutesField.querySelector('.hint'));
  const logForm = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'log-time-heading' },
    h('h2', { id: 'log-time-heading' }, 'Log time'),
    h(
      'p',
      { class: 'hint' },
      'Time with hostile content outside a logged message: research, reading, long threads. The minutes you give with a message count already.',
    ),
    minutesField,
    activity,
    field('When', at.input, { path: 'at', hint: 'Your local time; now unless you change it. It counts in the week it was spent.' }),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Log time')),
    formStatus(),
  );
  logForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    let replayed = false;
    let logged = null;
    const ok = await submitting(
      logForm,
      async () => {
        const value = parseMinutes(minutes.value);
        const problems = [];
        const minutesWrong = minutesProblem(value, { min: 1, max: 600 });
        if (minutesWrong) problems.push({ path: 'minutes', message: minutesWrong });
        if (!chosen(activity)) problems.push({ path: 'activity', message: 'Choose what it was.' });
        if (problems.length) throw refusal(problems);
        const snapshot = JSON.stringify([value, chosen(activity), at.input.value, at.touched]);
        const attempt = tries.take(snapshot, () => ({ at: at.value(), minutes: value, activity: chosen(activity) }));
        const res = await post('/v1/me/time', attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
          tries.failed(err);
          throw err;
        });
        replayed = res.replayed;
        logged = res.data;
        tries.done();
      },
      { retrySafe: true, action: 'Log time' },
    );
    if (!ok) return;
    minutes.value = '';
    for (const r of activity.querySelectorAll('input')) r.checked = false;
    at.reset();
    await reload().catch(() => {});
    said(
      logForm,
      `${replayed ? 'Logged once (the first try had reached the server)' : 'Logged'}: ${durationText(logged.minutes)} of ${logged.activity}. ` +
        `This week so far: ${durationText(welfare.exposureMinutes)}.`,
    );
  });

  // ---- topics ----
  const topics = checkboxes(
    'Topics I opt out of',
    Object.entries(IDEOLOGIES).map(([v, label]) => [v, `${label[0].toUpperCase()}${label.slice(1)}`]),
    {
      path: 'avoid',
      hint: 'You are not offered new cases of a topic you tick, and need give no reason. Cases you hold stay yours: ask a lead to hand one over.',
    },
  );
  const topicsForm = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'topics-heading' },
    h('h2', { id: 'topics-heading' }, 'Topics'),
    topics,
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save topics')),
    formStatus(),
  );
  const tick = (avoid) => {
    for (const box of topics.querySelectorAll('input')) box.checked = avoid.includes(box.value);
  };
  topicsForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    let saved = [];
    const ok = await submitting(topicsForm, async () => {
      saved = (await call('PUT', '/v1/me/avoid', { body: { avoid: checked(topics) } })).data.avoid;
    });
    if (!ok) return;
    tick(saved);
    said(
      topicsForm,
      saved.length
        ? `Saved: you are offered no new ${saved.map((v) => IDEOLOGIES[v] ?? v).join(' or ')} cases.`
        : 'Saved: you may be offered cases of every topic.',
    );
  });

  await load();
  draw();
  tick(welfare.avoid ?? []);

  const panel = (title, id, ...content) => h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
  return h(
    'section',
    { class: 'view week' },
    h('h1', {}, 'My week'),
    h(
      'p',
      { class: 'lede' },
      'What this work is asking of you, and the support that goes with it. Only you and your program’s leads see these figures.',
    ),
    h(
      'div',
      { class: 'week-columns' },
      h('div', {}, panel('Time with hostile content', 'exposure-heading', exposureBox), logForm),
      h(
        'div',
        {},
        panel('Debriefs', 'debriefs-heading', debriefBox),
        panel('Supervision', 'supervision-heading', supervisionBox),
        topicsForm,
      ),
    ),
  );
}

// ---- the debrief queue (leads) --------------------------------------------------------------

/** Who each debrief's case is about, as the lead would name them (one read per case, audited as such). */
async function caseNames(ids) {
  const names = new Map();
  await Promise.all(
    [...new Set(ids.filter(Boolean))].map(async (id) => {
      try {
        names.set(id, profileName((await call('GET', `/v1/cases/${id}`)).data.profile));
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
      }
    }),
  );
  return names;
}

export async function renderDebriefs(ctx) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const waitingList = h('div');
  const doneList = h('div');
  const heading = h('h2', { id: 'debriefs-waiting-heading', tabindex: '-1' }, 'Waiting');

  async function load() {
    const [pending, done] = await Promise.all([getAll('/v1/debriefs?status=pending', 400), getAll('/v1/debriefs?status=done', 1000)]);
    const recent = done.sort((a, b) => Date.parse(b.doneAt) - Date.parse(a.doneAt)).slice(0, 10);
    const names = await caseNames([...pending, ...recent].map((d) => d.caseId));
    const now = Date.now();
    const overdue = pending.filter((d) => Date.parse(d.dueAt) < now).length;
    fill(
      waitingList,
      pending.length
        ? [
            h(
              'p',
              { class: 'lede' },
              `${plural(pending.length, 'debrief')} waiting, earliest due first${overdue ? `; ${overdue} overdue` : ''}.`,
            ),
            h(
              'ul',
              { class: 'cards debrief-cards', 'aria-label': 'Debriefs waiting' },
              pending.map((d) => h('li', {}, debriefCard(d, names, now))),
            ),
          ]
        : h('p', { class: 'empty' }, 'No debrief is waiting.'),
    );
    fill(
      doneList,
      recent.length
        ? h(
            'ul',
            { class: 'plain-list' },
            recent.map((d) =>
              h(
                'li',
                {},
                h('strong', {}, ctx.staffName(d.staffId)),
                ` ${reasonWords(d.reason)} · held `,
                when(d.doneAt),
                ` by ${ctx.staffName(d.doneBy)}`,
                Date.parse(d.doneAt) > Date.parse(d.dueAt) ? ' (late)' : '',
                d.note ? h('span', { class: 'meta' }, h('br'), `Note: ${d.note}`) : null,
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'None yet.'),
    );
  }

  function debriefCard(d, names, now) {
    const titleId = nextId('d');
    const late = Date.parse(d.dueAt) < now;
    const who = ctx.staffName(d.staffId);
    const note = h('textarea', { rows: 2, maxlength: 2000 });
    const held = h('button', { type: 'button' }, 'Mark held', hiddenText(` for ${who}’s debrief`));
    const card = h(
      'article',
      { class: `card debrief-card${late ? ' urgent' : ''}`, 'aria-labelledby': titleId },
      h('h3', { id: titleId, class: 'card-title' }, who),
      h(
        'p',
        { class: 'badges' },
        late ? badge('Overdue', 'danger') : Date.parse(d.dueAt) - now < DAY_MS ? badge('Due soon', 'warn') : badge('Waiting'),
      ),
      h('p', { class: 'meta' }, late ? 'Was due ' : 'Due by ', when(d.dueAt)),
      h(
        'p',
        {},
        `Why: ${reasonWords(d.reason)}`,
        d.caseId ? [' · Case: ', h('a', { href: `#/case/${d.caseId}` }, names.get(d.caseId) ?? 'open the case')] : null,
      ),
      field('Note', note, { path: 'note', hint: 'Optional: anything agreed that is worth keeping. No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, held),
    );
    held.addEventListener('click', async () => {
      const ok = await submitting(card, () => post(`/v1/debriefs/${d.id}/complete`, note.value.trim() ? { note: note.value.trim() } : {}));
      if (!ok) return;
      await load();
      status.textContent = `Marked held: ${who}’s debrief.`;
      heading.focus();
    });
    return card;
  }

  await load();
  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Debriefs'),
    h(
      'p',
      { class: 'lede' },
      'Owed to an intervener after a distressing or hostile message, a safeguarding concern they raised, or a case closed as unsafe. ' +
        'Talk it through with them, then mark it held here.',
    ),
    status,
    h('section', { 'aria-labelledby': heading.id }, heading, waitingList),
    h('section', { 'aria-labelledby': 'debriefs-done-heading' }, h('h2', { id: 'debriefs-done-heading' }, 'Recently held'), doneList),
  );
}

// ---- supervision on the Team page (leads) ---------------------------------------------------

/** A Team card's Supervision part: the last session, and a form to record one held with `person`. */
export function supervisionSection(ctx, person) {
  const headingId = nextId('sv');
  const latest = h('p', { class: 'meta' }, 'Loading sessions…');
  const tries = attempts();
  const minutes = minutesInput();
  const format = select(FORMATS, { value: 'individual' });
  const at = nowInput(ctx, tries);

  async function load() {
    try {
      const { items } = await get(`/v1/staff/${person.id}/supervision-sessions?limit=1`);
      const s = items[0];
      fill(latest, s ? ['Last session ', when(s.at), ` · ${s.minutes} min, ${s.format}`] : 'No session recorded yet.');
    } catch (err) {
      fill(latest, `Sessions could not be loaded: ${err.message}`);
    }
  }

  const form = h(
    'form',
    { class: 'team-form', novalidate: true, 'aria-label': `Record a supervision session with ${person.name}` },
    h(
      'div',
      { class: 'grid-2' },
      field('Held at', at.input, { path: 'at', hint: 'Your local time; now unless you change it.' }),
      field('Minutes', minutes, { path: 'minutes', hint: 'e.g. 60, 1 h 30 or 1:30.' }),
    ),
    field('Format', format, { path: 'format' }),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Record session')),
    formStatus(),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let replayed = false;
    let recorded = null;
    const ok = await submitting(
      form,
      async () => {
        const value = parseMinutes(minutes.value);
        const wrong = minutesProblem(value, { min: 1, max: 600 });
        if (wrong) throw refusal([{ path: 'minutes', message: wrong }]);
        const snapshot = JSON.stringify([value, format.value, at.input.value, at.touched]);
        const attempt = tries.take(snapshot, () => ({ at: at.value(), minutes: value, format: format.value }));
        const res = await post(`/v1/staff/${person.id}/supervision-sessions`, attempt.body, { 'idempotency-key': attempt.key }).catch(
          (err) => {
            tries.failed(err);
            throw err;
          },
        );
        replayed = res.replayed;
        recorded = res.data;
        tries.done();
      },
      { retrySafe: true, action: 'Record session' },
    );
    if (!ok) return;
    minutes.value = '';
    format.value = 'individual';
    at.reset();
    await load();
    said(
      form,
      `${replayed ? 'Session recorded once (the first try had reached the server)' : 'Session recorded'}: ${recorded.minutes} min, ${recorded.format}.`,
    );
  });

  load();
  return h(
    'section',
    { 'aria-labelledby': headingId },
    h('h4', { id: headingId }, 'Supervision'),
    latest,
    h('details', { class: 'team-action' }, h('summary', {}, 'Record a supervision session'), form),
  );
}
