// The case page: the profile and its stage, the messages logged, follow-ups and concerns, and
// what the caller's role may do next. Each part reloads on its own after a change, so a form
// being filled in elsewhere on the page keeps what was typed.

import { ApiError, call, get, getAll, patch, post } from './api.js';
import { assessmentsSection } from './assessments.js';
import {
  announce,
  badge,
  fill,
  fromLocalInput,
  h,
  handleText,
  hiddenText,
  IDEOLOGIES,
  PLATFORMS,
  profileName,
  profileUrl,
  toLocalInput,
  when,
  words,
} from './dom.js';
import { attempts, checkboxes, checked, clearProblem, field, formAlert, formStatus, nextId, said, select, submitting } from './forms.js';
import { caseHoldsPanel } from './holds.js';
import { notesSection } from './notes.js';
import { minutesProblem, parseMinutes } from './welfare.js';

const APPROACHES = [
  'empathetic',
  'nonjudgmental',
  'questioning',
  'personal_story',
  'humour',
  'informational',
  'challenging',
  'religious_argument',
];
const CHANNELS = ['direct_message', 'paid_message', 'comment', 'other'];
const SENTIMENTS = ['positive', 'neutral', 'negative', 'hostile'];
const FOLLOW_UP_KINDS = [
  ['follow_up', 'follow-up'],
  ['check_in', 'check-in'],
  ['review', 'review'],
];
const DISCLOSURES = { organisation: 'organisation', named_person: 'named person' };
const OUTCOMES = ['positive_change', 'disengaged', 'no_response', 'declined', 'referred', 'unsafe_to_continue', 'other'];
const OPEN_FOLLOW_UP = ['pending', 'due', 'overdue'];
const SNOOZES = [
  ['3600000', '1 hour'],
  ['14400000', '4 hours'],
  ['86400000', '1 day'],
  ['259200000', '3 days'],
  ['604800000', '1 week'],
];
const EVENT_WORDS = {
  flagged: 'Flagged',
  edited: 'Details edited',
  triage_accept: 'Accepted at triage',
  triage_reject: 'Rejected at triage',
  approve: 'Approved for contact',
  assign: 'Assigned',
  close: 'Closed',
  reopen: 'Reopened',
  erase: 'Erased',
  touchpoint_voided: 'Message voided',
};

export async function renderCase(ctx, id) {
  const role = ctx.me.role;
  const s = {
    id,
    case: null,
    etag: null,
    touchpoints: [],
    followUps: [],
    concerns: [],
    events: [],
    candidates: [],
    requireApproval: true,
    accounts: [],
    requireOutreachAccount: false,
  };

  const loaders = {
    async case() {
      const res = await call('GET', `/v1/cases/${id}`);
      s.case = res.data;
      s.etag = res.etag;
    },
    async touchpoints() {
      s.touchpoints = await getAll(`/v1/cases/${id}/touchpoints`);
    },
    async followUps() {
      if (role === 'analyst') return;
      s.followUps = await getAll(`/v1/follow-ups?caseId=${id}`, 400);
    },
    async concerns() {
      // The list has no case filter: the caller's concerns (their scope), kept for this case.
      s.concerns = (await getAll('/v1/safeguarding', 400)).filter((c) => c.caseId === id);
    },
    async events() {
      if (role === 'lead') s.events = await getAll(`/v1/cases/${id}/events`);
    },
    async candidates() {
      s.candidates = role === 'lead' && canAssign() ? (await get(`/v1/cases/${id}/candidates`)).items : [];
    },
    async program() {
      if (role !== 'lead') return;
      const program = await get(`/v1/programs/${s.case.programId}`);
      s.requireApproval = program.settings?.requireApproval !== false;
      s.requireOutreachAccount = program.settings?.requireOutreachAccount === true;
    },
    async accounts() {
      // The program's disclosed outreach accounts, retired ones too (older messages name them).
      if (role === 'lead' || role === 'intervener') s.accounts = await getAll(`/v1/programs/${s.case.programId}/outreach-accounts`, 400);
    },
  };

  /** Set by the log form on a case in a trial: brings its suggestion up to date with the messages. */
  let suggestionUpdate = null;

  // ---- what the caller may do, from their role and the case's status -------------------
  const status = () => s.case.status;
  const live = () => !s.case.erased;
  const canWork = () => live() && status() === 'active' && (role === 'intervener' || role === 'lead');
  const canRaise = () => live() && ['lead', 'analyst', 'intervener'].includes(role);
  const canTriage = () => live() && status() === 'flagged' && (role === 'analyst' || role === 'lead');
  const canApprove = () => live() && role === 'lead' && status() === 'accepted' && s.requireApproval;
  const canAssign = () =>
    live() && role === 'lead' && (status() === 'approved' || status() === 'active' || (status() === 'accepted' && !s.requireApproval));
  const canClose = () =>
    live() && (role === 'lead' ? ['accepted', 'approved', 'active'].includes(status()) : role === 'intervener' && status() === 'active');
  const canReopen = () => live() && role === 'lead' && status() === 'closed';

  await loaders.case();
  await loaders.program();
  await Promise.all([
    loaders.touchpoints(),
    loaders.followUps(),
    loaders.concerns(),
    loaders.events(),
    loaders.candidates(),
    loaders.accounts(),
  ]);
  const [notes, assessments, holds] = await Promise.all([
    notesSection(ctx, s.case),
    assessmentsSection(ctx, s.case),
    role === 'lead' && live() ? caseHoldsPanel(ctx, id) : null,
  ]);

  // ---- the page's parts ------------------------------------------------------------------
  const pageAlert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
  const head = h('section', { class: 'case-head panel', 'aria-labelledby': 'case-name' });
  const timeline = h('section', { class: 'panel', 'aria-labelledby': 'timeline-heading' });
  const followUpList = h('div', { class: 'fu-list' });
  const concernList = h('div', { class: 'concern-list' });
  const history = h('section', { class: 'panel', 'aria-labelledby': 'history-heading' });
  const workflow = h('div', { class: 'workflow' });

  async function refresh(...parts) {
    try {
      await Promise.all(parts.map((p) => loaders[p]()));
      if (parts.includes('case')) {
        renderHead();
        details.refill();
      }
      if (parts.includes('touchpoints')) {
        renderTimeline();
        suggestionUpdate?.();
      }
      if (parts.includes('followUps')) renderFollowUps();
      if (parts.includes('concerns')) renderConcerns();
      if (parts.includes('events')) renderHistory();
      pageAlert.hidden = true;
    } catch (err) {
      fill(pageAlert, h('p', { class: 'detail' }, `Done, but this page could not be brought up to date: ${err.message} Reload the page.`));
      pageAlert.hidden = false;
    }
  }

  function renderHead() {
    const c = s.case;
    const p = c.profile;
    const url = profileUrl(p);
    const handle = handleText(p);
    fill(
      head,
      h('h1', {}, 'Case'),
      h('h2', { id: 'case-name', class: 'case-name' }, c.erased ? 'Erased profile' : profileName(p)),
      h(
        'p',
        { class: 'meta' },
        [p.displayName && handle ? handle : null, PLATFORMS[p.platform] ?? p.platform, p.language ? `language ${p.language}` : null]
          .filter(Boolean)
          .join(' · '),
      ),
      url && !c.erased
        ? h(
            'p',
            {},
            h(
              'a',
              { class: 'profile-link', href: url, target: '_blank', rel: 'noopener noreferrer' },
              `Open profile on ${PLATFORMS[p.platform] ?? 'the platform'}`,
              hiddenText(' (opens in a new tab)'),
            ),
          )
        : null,
      h(
        'dl',
        { class: 'facts' },
        fact('Stage', h('dd', { 'aria-labelledby': 'stage-term', class: 'stage' }, c.stage), 'stage-term'),
        fact('Status', h('dd', {}, words(c.status))),
        fact('Risk level', h('dd', {}, c.riskLevel)),
        fact('Ideology', h('dd', {}, IDEOLOGIES[c.ideology] ?? words(c.ideology))),
        fact('Flagged', h('dd', {}, when(c.flaggedAt))),
        fact('Held by', h('dd', {}, c.assigneeId ? ctx.staffName(c.assigneeId) : 'nobody yet')),
        c.outcome ? fact('Outcome', h('dd', {}, words(c.outcome))) : null,
        c.trial ? fact('Trial approach', h('dd', {}, approachName(c.trial.arm))) : null,
      ),
      c.indicators.length
        ? h(
            'div',
            { class: 'indicators' },
            h('h3', {}, 'Indicators'),
            h(
              'ul',
              {},
              c.indicators.map((i) =>
                h(
                  'li',
                  {},
                  h('strong', {}, words(i.kind)),
                  i.note ? ` — ${i.note}` : null,
                  i.evidenceUrl
                    ? [
                        ' ',
                        h(
                          'a',
                          { href: i.evidenceUrl, target: '_blank', rel: 'noopener noreferrer' },
                          'evidence',
                          hiddenText(' (opens in a new tab)'),
                        ),
                      ]
                    : null,
                ),
              ),
            ),
          )
        : null,
    );
  }

  // ---- safeguarding: one tap away on every case ------------------------------------------
  const concern = concernSheet();

  function concernSheet() {
    const status = h('p', { class: 'form-status', role: 'status' });
    const sheetId = nextId('concern');
    const opener = h(
      'button',
      { type: 'button', class: 'danger', 'aria-expanded': 'false', 'aria-controls': sheetId },
      'Raise safeguarding concern',
    );
    const severity = select(
      [
        ['high', 'high: needs a lead soon'],
        ['urgent', 'urgent: risk of harm now'],
      ],
      { value: 'high' },
    );
    const text = h('textarea', { rows: 4, maxlength: 2000 });
    const action = h('textarea', { rows: 2, maxlength: 2000 });
    const tries = attempts();
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const form = h(
      'form',
      { class: 'panel sheet', id: sheetId, novalidate: true, hidden: true, 'aria-labelledby': `${sheetId}-h` },
      h('h2', { id: `${sheetId}-h` }, 'Raise a safeguarding concern'),
      h('p', { class: 'hint' }, 'Every lead of your program is told at once, and again until one acknowledges it.'),
      field('Severity', severity, { path: 'severity' }),
      field('Concern', text, { path: 'concern', hint: 'What you saw or were told, and why it worries you.' }),
      field('Action taken', action, { path: 'actionTaken', hint: 'Optional: what you have done so far.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Raise safeguarding concern'), cancel),
      formStatus(),
    );
    const open = (yes) => {
      form.hidden = !yes;
      opener.hidden = yes;
      opener.setAttribute('aria-expanded', String(yes));
      if (yes) {
        status.textContent = '';
        severity.focus();
      } else opener.focus();
    };
    opener.addEventListener('click', () => open(true));
    cancel.addEventListener('click', () => {
      clearProblem(form);
      open(false);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(
        form,
        async () => {
          const attempt = tries.take(JSON.stringify([severity.value, text.value, action.value]), () => ({
            severity: severity.value,
            concern: text.value.trim(),
            ...(action.value.trim() ? { actionTaken: action.value.trim() } : {}),
          }));
          await post(`/v1/cases/${id}/safeguarding`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
            tries.failed(err);
            throw err;
          });
          tries.done();
        },
        { retrySafe: true, action: 'Raise safeguarding concern' },
      );
      if (!ok) return;
      text.value = '';
      action.value = '';
      severity.value = 'high';
      open(false);
      status.textContent = 'Concern raised: every lead of your program has been told.';
      await refresh('concerns');
    });
    const bar = h('div', { class: 'quickbar' }, opener, status);
    return { bar, form, available: canRaise() };
  }

  // ---- log message ------------------------------------------------------------------------
  function logForm() {
    const direction = select(
      [
        ['outbound', 'outbound: we wrote to them'],
        ['inbound', 'inbound: they wrote to us'],
      ],
      { placeholder: 'Choose…' },
    );
    const channel = select(
      CHANNELS.map((c) => [c, words(c)]),
      { value: 'direct_message' },
    );
    const approaches = checkboxes(
      'Approaches',
      APPROACHES.map((a) => [a, words(a)]),
      { path: 'approaches', hint: 'For a message you sent: how it was written.' },
    );
    const sentiment = select(
      SENTIMENTS.map((x) => [x, x]),
      { placeholder: 'not noted' },
    );
    const suggestion = trialSuggestion(direction, approaches);
    const sentFrom = outreachAccountField(direction);
    const cost = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
    const summary = h('textarea', { rows: 3, maxlength: 500 });
    // Welfare (interveners): their time with it counts toward the weekly cap; distressing owes a debrief.
    const welfare = role === 'intervener' ? welfareFields() : null;
    const at = h('input', { type: 'datetime-local' });
    let atTouched = false;
    at.addEventListener('input', () => {
      atTouched = true;
    });
    const tries = attempts();
    const resetAt = () => {
      at.value = toLocalInput(new Date());
      atTouched = false;
    };
    resetAt();
    // "Now" stays now while the field is untouched and no try is waiting to be retried.
    const tick = setInterval(() => {
      if (!atTouched && !tries.pending) at.value = toLocalInput(new Date());
    }, 30_000);
    ctx.onLeave(() => clearInterval(tick));

    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'log-heading' },
      h('h2', { id: 'log-heading' }, 'Log a message'),
      h('p', { class: 'hint' }, 'Overture sends nothing: write on the platform, then record here what was sent or received.'),
      suggestion.callout,
      h('div', { class: 'grid-2' }, field('Direction', direction, { path: 'direction' }), field('Channel', channel, { path: 'channel' })),
      sentFrom.el,
      approaches,
      h(
        'div',
        { class: 'grid-2' },
        field('Sentiment', sentiment, { path: 'sentiment' }),
        field('Cost', cost, { path: 'costCents', hint: 'Optional: what a paid message cost, e.g. 1.00' }),
      ),
      field('Summary', summary, { path: 'summary', hint: 'Optional, up to 500 characters. No names, handles or links.' }),
      field('When', at, { path: 'occurredAt', hint: 'Your local time; now unless you change it.' }),
      welfare?.el,
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Log message')),
      formStatus(),
    );

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      let replayed = false;
      const ok = await submitting(
        form,
        async () => {
          const cents = parseCost(cost.value);
          const spent = welfare ? welfare.minutes() : null;
          if (Number.isNaN(spent) || (spent !== null && minutesProblem(spent, { min: 0, max: 600 }))) {
            throw new ApiError(400, {
              detail: 'Some fields need attention: see below.',
              errors: [{ path: 'minutesSpent', message: minutesProblem(spent, { min: 0, max: 600 }) }],
            });
          }
          const snapshot = JSON.stringify([
            spent,
            welfare?.distressing() ?? false,
            direction.value,
            channel.value,
            sentFrom.value(),
            checked(approaches),
            sentiment.value,
            cost.value,
            summary.value,
            at.value,
            atTouched,
          ]);
          const attempt = tries.take(snapshot, () => ({
            ...(direction.value ? { direction: direction.value } : {}),
            channel: channel.value,
            ...(sentFrom.value() ? { outreachAccountId: sentFrom.value() } : {}),
            ...(atTouched ? optional('occurredAt', fromLocalInput(at.value)) : { occurredAt: new Date().toISOString() }),
            ...(checked(approaches).length ? { approaches: checked(approaches) } : {}),
            ...(sentiment.value ? { sentiment: sentiment.value } : {}),
            ...(cents !== null ? { costCents: cents } : {}),
            ...(summary.value.trim() ? { summary: summary.value.trim() } : {}),
            ...(spent !== null ? { minutesSpent: spent } : {}),
            ...(welfare?.distressing() ? { distressing: true } : {}),
          }));
          const res = await post(`/v1/cases/${id}/touchpoints`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
            tries.failed(err);
            throw err;
          });
          replayed = res.replayed;
          tries.done();
        },
        { retrySafe: true, action: 'Log message' },
      );
      if (!ok) return;
      direction.value = '';
      for (const box of approaches.querySelectorAll('input')) box.checked = false;
      sentiment.value = '';
      cost.value = '';
      summary.value = '';
      const debriefOffered = welfare?.distressing() ?? false;
      welfare?.reset();
      resetAt();
      said(
        form,
        `${replayed ? 'Message logged (the first try had reached the server: it is logged once).' : 'Message logged.'}${
          debriefOffered ? ' A lead will be in touch to offer you a debrief; take a moment before the next one.' : ''
        }`,
      );
      await refresh('case', 'touchpoints', 'followUps');
      suggestion.reset();
    });
    return form;
  }

  /**
   * "Sent from": the program's live, disclosed outreach accounts on the case's platform, for an
   * outbound message (an inbound one names none, so the field goes while inbound is chosen).
   * The choice stays after a message is logged: the next one is usually sent from the same account.
   */
  function outreachAccountField(direction) {
    const platform = s.case.profile.platform;
    const usable = s.accounts.filter((a) => a.platform === platform && !a.retiredAt);
    const placeholder = usable.length
      ? s.requireOutreachAccount
        ? 'Choose…'
        : 'not named'
      : `No account registered on ${PLATFORMS[platform] ?? platform}`;
    const account = select(
      usable.map((a) => [a.id, `${a.label} (${DISCLOSURES[a.disclosure] ?? words(a.disclosure)})`]),
      { placeholder },
    );
    const el = field('Sent from', account, {
      path: 'outreachAccountId',
      hint: `${s.requireOutreachAccount ? 'Required by the program: ' : ''}the disclosed account you wrote from. A lead registers the program’s accounts.`,
    });
    const apply = () => {
      el.hidden = direction.value === 'inbound';
    };
    direction.addEventListener('change', apply);
    apply();
    return { el, value: () => (direction.value === 'inbound' ? '' : account.value) };
  }

  /** Minutes spent and "This was distressing": optional, seen only by the intervener and the leads. */
  function welfareFields() {
    const minutes = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', class: 'minutes-input' });
    const box = h('input', { type: 'checkbox', id: nextId('c') });
    const hintId = `${box.id}-hint`;
    box.setAttribute('aria-describedby', hintId);
    const el = h(
      'div',
      { class: 'welfare-fields' },
      field('Minutes spent', minutes, {
        path: 'minutesSpent',
        hint: 'Optional: reading and writing it, e.g. 20 or 1 h 10. It counts toward your week’s time with hostile content.',
      }),
      h(
        'div',
        { class: 'field', dataset: { path: 'distressing' } },
        h('label', { class: 'check', for: box.id }, box, h('span', {}, 'This was distressing')),
        h(
          'p',
          { class: 'hint', id: hintId },
          'If it stayed with you, tick this: a lead will offer you a short debrief. Only you and your leads see it.',
        ),
      ),
    );
    return {
      el,
      minutes: () => parseMinutes(minutes.value),
      distressing: () => box.checked,
      reset() {
        minutes.value = '';
        box.checked = false;
      },
    };
  }

  // ---- an approach trial: the arm is the suggested opening approach -------------------------
  /** No outbound message counts yet (a voided one does not): the next one sent is the opening. */
  const opening = () => !s.touchpoints.some((t) => t.direction === 'outbound' && !t.voidedAt);

  /**
   * While the opening message is still to be logged on a case in a trial: a callout naming the
   * arm, and the arm ticked among the approaches (for an outbound message; the user may untick it).
   */
  function trialSuggestion(direction, approaches) {
    const callout = h('div', { class: 'callout', hidden: true });
    let touched = false;
    approaches.addEventListener('change', () => {
      touched = true;
    });
    const apply = () => {
      const arm = s.case.trial?.arm;
      const box = arm ? approaches.querySelector(`input[value="${arm}"]`) : null;
      for (const mark of approaches.querySelectorAll('.suggested')) mark.remove();
      if (!arm || !box || !opening()) {
        callout.hidden = true;
        return;
      }
      fill(
        callout,
        h('p', { class: 'callout-title' }, 'Suggested opening approach: ', h('strong', {}, approachName(arm))),
        h(
          'p',
          {},
          'This case is part of an approach trial: please open with this approach so the comparison is fair. ' +
            'It is ticked below; you can still change it.',
        ),
      );
      callout.hidden = false;
      box.closest('label')?.append(h('span', { class: 'badge badge-ok suggested' }, 'suggested'));
      // Ticked for the opening message; an inbound one has no approach, so it is unticked again.
      if (!touched) box.checked = direction.value !== 'inbound';
    };
    direction.addEventListener('change', apply);
    apply();
    suggestionUpdate = apply;
    return {
      callout,
      reset() {
        touched = false;
        apply();
      },
    };
  }

  function renderTimeline() {
    const items = [...s.touchpoints].reverse();
    fill(
      timeline,
      h('h2', { id: 'timeline-heading' }, 'Messages'),
      items.length
        ? h('ol', { class: 'timeline', reversed: true }, items.map(touchpointItem))
        : h('p', { class: 'empty' }, 'No message logged yet.'),
    );
  }

  // ---- a message logged in error: voided, it stays listed (struck through) and counts nowhere ----
  /** As the API decides it: the logger within 7 days of logging it, or a lead. */
  const canVoid = (t) =>
    live() &&
    !t.voidedAt &&
    (role === 'lead' || (role === 'intervener' && t.loggedBy === ctx.me.id && Date.now() - Date.parse(t.createdAt) <= 7 * 86_400_000));

  const accountLabel = (accountId) => s.accounts.find((a) => a.id === accountId)?.label ?? 'a program account';

  function touchpointItem(t) {
    const voided = Boolean(t.voidedAt);
    const struck = (...content) => (voided ? h('s', {}, content) : content);
    const item = h(
      'li',
      { class: `tp tp-${t.direction}${voided ? ' tp-voided' : ''}`, dataset: { touchpointId: t.id } },
      h(
        'p',
        { class: 'tp-head' },
        struck(
          h('strong', {}, t.direction === 'outbound' ? 'Sent to them' : 'Received from them'),
          ` · ${words(t.channel)} · `,
          when(t.occurredAt),
        ),
      ),
      t.summary ? h('p', { class: 'tp-summary' }, struck(t.summary)) : null,
      h(
        'p',
        { class: 'meta' },
        struck(
          [
            t.approaches.length ? `Approaches: ${t.approaches.map(words).join(', ')}` : null,
            t.sentiment ? `Sentiment: ${t.sentiment}` : null,
            t.costCents != null ? `Cost: ${(t.costCents / 100).toFixed(2)}` : null,
            t.minutesSpent ? `Time spent: ${t.minutesSpent} min` : null,
            t.outreachAccountId ? `Sent from: ${accountLabel(t.outreachAccountId)}` : null,
            t.distressing ? 'Distressing' : null,
            `Logged by ${ctx.staffName(t.loggedBy)}`,
          ]
            .filter(Boolean)
            .join(' · '),
        ),
      ),
      voided
        ? h(
            'p',
            { class: 'tp-void', tabindex: '-1' },
            h('strong', {}, 'Voided: '),
            t.voidReason ?? 'logged in error',
            ` · by ${ctx.staffName(t.voidedBy)} `,
            when(t.voidedAt),
          )
        : null,
    );
    if (canVoid(t)) item.append(voidControl(t));
    return item;
  }

  /** A Void button; its form (a Reason) is built when asked for, so no hidden field waits on every message. */
  function voidControl(t) {
    const place = h('div', { class: 'tp-actions' });
    const formId = nextId('void');
    const what = `${t.direction === 'outbound' ? 'sent' : 'received'} ${new Date(t.occurredAt).toLocaleString()}`;
    const opener = h(
      'button',
      { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': formId },
      'Void',
      hiddenText(` the message ${what}`),
    );
    const close = () => {
      fill(place, opener);
      opener.setAttribute('aria-expanded', 'false');
      opener.focus();
    };
    opener.addEventListener('click', () => {
      const reason = h('input', { type: 'text', autocomplete: 'off', maxlength: 500 });
      const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
      const form = h(
        'form',
        { class: 'subform', id: formId, novalidate: true, 'aria-labelledby': `${formId}-h` },
        h('h3', { id: `${formId}-h` }, 'Void this message'),
        h(
          'p',
          { class: 'hint' },
          'Only for a message logged in error (wrong case, wrong direction). It stays listed, struck through, and stops counting: ' +
            'the stage, reminders and reports are worked out again without it. Log it again to correct it.',
        ),
        field('Reason', reason, { path: 'reason', hint: 'Why it was logged in error; kept with it. No names, handles or links.' }),
        formAlert(),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Void message'), cancel),
        formStatus(),
      );
      cancel.addEventListener('click', close);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const ok = await submitting(form, () => post(`/v1/touchpoints/${t.id}/void`, { reason: reason.value.trim() }), {
          action: 'Void message',
        });
        if (!ok) return;
        announce('Message voided: the stage and counts no longer include it.');
        await refresh('case', 'touchpoints', 'followUps', ...(role === 'lead' ? ['events'] : []));
        // The list was rebuilt: the keyboard goes to the voided message's note.
        timeline.querySelector(`[data-touchpoint-id="${t.id}"] .tp-void`)?.focus();
      });
      fill(place, form);
      opener.setAttribute('aria-expanded', 'true');
      reason.focus();
    });
    return fill(place, opener);
  }

  // ---- follow-ups -------------------------------------------------------------------------
  function renderFollowUps() {
    const open = s.followUps.filter((f) => OPEN_FOLLOW_UP.includes(f.status));
    const closed = s.followUps.filter((f) => !OPEN_FOLLOW_UP.includes(f.status)).reverse();
    fill(
      followUpList,
      open.length ? h('ul', { class: 'fu-items' }, open.map(followUpItem)) : h('p', { class: 'empty' }, 'No follow-up pending.'),
      closed.length
        ? h(
            'details',
            { class: 'done' },
            h('summary', {}, `Done or cancelled (${closed.length})`),
            h(
              'ul',
              {},
              closed
                .slice(0, 20)
                .map((f) =>
                  h(
                    'li',
                    {},
                    `${kindWords(f.kind)} · ${f.status}`,
                    f.completedAt ? [' ', when(f.completedAt)] : null,
                    f.note ? ` — ${f.note}` : null,
                  ),
                ),
            ),
          )
        : null,
    );
  }

  function followUpItem(f) {
    const tone = f.status === 'overdue' ? 'danger' : f.status === 'due' ? 'warn' : 'plain';
    const until = select(SNOOZES, { value: '86400000' });
    const snooze = h('button', { type: 'button', class: 'secondary' }, 'Snooze');
    const done = h('button', { type: 'button' }, 'Mark done');
    const item = h(
      'li',
      { class: `fu fu-${f.status}` },
      h('p', { class: 'fu-head' }, h('strong', {}, kindWords(f.kind)), ' ', badge(f.status, tone), ' · due ', when(f.dueAt)),
      f.note ? h('p', { class: 'fu-note' }, f.note) : null,
      canWork() || role === 'lead'
        ? [formAlert(), h('div', { class: 'fu-actions' }, field('Snooze for', until, { className: 'inline' }), snooze, done), formStatus()]
        : null,
    );
    const act = (path, body, text) => async () => {
      const ok = await submitting(item, () => post(`/v1/follow-ups/${f.id}/${path}`, body()));
      if (!ok) return;
      announce(text);
      await refresh('followUps');
      // The list was rebuilt: put the keyboard back at the top of it.
      followUpList.querySelector('button, summary')?.focus();
    };
    snooze.addEventListener(
      'click',
      act('snooze', () => ({ until: new Date(Date.now() + Number(until.value)).toISOString() }), 'Follow-up snoozed.'),
    );
    done.addEventListener(
      'click',
      act('complete', () => ({}), 'Follow-up marked done.'),
    );
    return item;
  }

  function scheduleForm() {
    const due = h('input', { type: 'datetime-local', value: toLocalInput(new Date(Date.now() + 86_400_000)) });
    const kind = select(FOLLOW_UP_KINDS, { value: 'follow_up' });
    const note = h('textarea', { rows: 2, maxlength: 500 });
    const tries = attempts();
    const form = h(
      'form',
      { class: 'subform', novalidate: true, 'aria-labelledby': 'schedule-heading' },
      h('h3', { id: 'schedule-heading' }, 'New follow-up'),
      h('div', { class: 'grid-2' }, field('Due', due, { path: 'dueAt', hint: 'Your local time.' }), field('Kind', kind, { path: 'kind' })),
      field('Note', note, { path: 'note', hint: 'Optional: what to do then. No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Schedule follow-up')),
      formStatus(),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(
        form,
        async () => {
          const attempt = tries.take(JSON.stringify([due.value, kind.value, note.value]), () => ({
            ...optional('dueAt', fromLocalInput(due.value)),
            kind: kind.value,
            ...(note.value.trim() ? { note: note.value.trim() } : {}),
          }));
          await post(`/v1/cases/${id}/follow-ups`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
            tries.failed(err);
            throw err;
          });
          tries.done();
        },
        { retrySafe: true, action: 'Schedule follow-up' },
      );
      if (!ok) return;
      note.value = '';
      due.value = toLocalInput(new Date(Date.now() + 86_400_000));
      said(form, 'Follow-up scheduled.');
      await refresh('followUps');
    });
    return form;
  }

  // ---- concerns ---------------------------------------------------------------------------
  function renderConcerns() {
    fill(
      concernList,
      s.concerns.length
        ? h(
            'ul',
            { class: 'concerns' },
            s.concerns.map((c) =>
              h(
                'li',
                { class: `concern concern-${c.status}` },
                h(
                  'p',
                  { class: 'fu-head' },
                  badge(c.severity, c.severity === 'urgent' ? 'danger' : 'danger-soft'),
                  ' ',
                  badge(c.status, c.status === 'open' ? 'warn' : 'ok'),
                  ' raised ',
                  when(c.raisedAt),
                  ` by ${ctx.staffName(c.raisedBy)}`,
                ),
                c.concern ? h('p', {}, c.concern) : null,
                c.actionTaken ? h('p', { class: 'meta' }, `Action taken: ${c.actionTaken}`) : null,
                c.acknowledgedAt
                  ? h('p', { class: 'meta' }, `Acknowledged by ${ctx.staffName(c.acknowledgedBy)} `, when(c.acknowledgedAt))
                  : null,
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No safeguarding concern on this case.'),
    );
  }

  // ---- details (PATCH with If-Match) ------------------------------------------------------
  const details = detailsForm();

  function detailsForm() {
    const risk = select([
      ['low', 'low'],
      ['medium', 'medium'],
      ['high', 'high'],
    ]);
    const ideology = select(Object.entries(IDEOLOGIES));
    const language = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 35 });
    let dirty = false;
    let etag = null;
    let loaded = null;
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'details-heading' },
      h('h2', { id: 'details-heading' }, 'Details'),
      h(
        'div',
        { class: 'grid-3' },
        field('Risk level', risk, { path: 'riskLevel' }),
        field('Ideology', ideology, { path: 'ideology' }),
        field('Language', language, { path: 'profile.language profile', hint: 'e.g. en, pt-BR' }),
      ),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save')),
      formStatus(),
    );
    form.addEventListener('input', () => {
      dirty = true;
    });
    /** The form shows the case as read, and remembers that version for If-Match; `force` drops unsaved edits. */
    const refill = (force = false) => {
      if (dirty && !force) return;
      loaded = { riskLevel: s.case.riskLevel, ideology: s.case.ideology, language: s.case.profile.language ?? '' };
      risk.value = loaded.riskLevel;
      ideology.value = loaded.ideology;
      language.value = loaded.language;
      etag = s.etag;
      dirty = false;
    };
    refill();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = {};
      if (risk.value !== loaded.riskLevel) body.riskLevel = risk.value;
      if (ideology.value !== loaded.ideology) body.ideology = ideology.value;
      if (language.value.trim() !== loaded.language) body.profile = { language: language.value.trim() || null };
      if (Object.keys(body).length === 0) {
        clearProblem(form);
        said(form, 'Nothing changed.');
        return;
      }
      const ok = await submitting(
        form,
        async () => {
          const res = await patch(`/v1/cases/${id}`, body, { 'if-match': etag });
          s.case = res.data;
          s.etag = res.etag;
        },
        {
          onReload: async () => {
            await refresh('case', 'events');
            refill(true);
            clearProblem(form);
            said(form, 'Reloaded: this is the case as it is now. Make your change again if it is still needed.');
            risk.focus();
          },
        },
      );
      if (!ok) return;
      dirty = false;
      refill(true);
      renderHead();
      said(form, 'Saved.');
      if (role === 'lead') await refresh('events');
    });
    return { form, refill };
  }

  // ---- workflow: triage, approve, assign, close, reopen ----------------------------------
  async function afterTransition(text) {
    announce(text);
    await ctx.rerender();
    document.querySelector('#view h1')?.focus();
  }

  function renderWorkflow() {
    const parts = [];
    if (canTriage()) parts.push(triageForm());
    if (canApprove()) parts.push(approveForm());
    if (canAssign()) parts.push(assignForm());
    if (canClose()) parts.push(closeForm());
    if (canReopen()) parts.push(reopenForm());
    fill(workflow, parts);
  }

  function triageForm() {
    const reason = h('input', { type: 'text', autocomplete: 'off', maxlength: 1000 });
    const accept = h('button', { type: 'button' }, 'Accept');
    const reject = h('button', { type: 'button', class: 'secondary' }, 'Reject');
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'triage-heading' },
      h('h2', { id: 'triage-heading' }, 'Triage'),
      field('Reason', reason, { path: 'reason', hint: 'Why it meets, or does not meet, the program’s criteria. Recorded in the history.' }),
      formAlert(),
      h('div', { class: 'actions' }, accept, reject),
      formStatus(),
    );
    const decide = (decision) => async () => {
      const ok = await submitting(form, () => post(`/v1/cases/${id}/triage`, { decision, reason: reason.value.trim() }));
      if (ok) await afterTransition(decision === 'accept' ? 'Case accepted.' : 'Case rejected.');
    };
    accept.addEventListener('click', decide('accept'));
    reject.addEventListener('click', decide('reject'));
    form.addEventListener('submit', (event) => event.preventDefault());
    return form;
  }

  function approveForm() {
    const note = h('textarea', { rows: 2, maxlength: 1000 });
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'approve-heading' },
      h('h2', { id: 'approve-heading' }, 'Approval'),
      h('p', { class: 'hint' }, 'Approving allows first contact; assign the case next.'),
      field('Note', note, { path: 'note', hint: 'Optional: guidance for whoever takes the case.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Approve')),
      formStatus(),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(form, () => post(`/v1/cases/${id}/approve`, note.value.trim() ? { note: note.value.trim() } : {}));
      if (ok) await afterTransition('Case approved.');
    });
    return form;
  }

  function assignForm() {
    const groupId = nextId('assign');
    const holder = s.case.status === 'active' ? s.case.assigneeId : null;
    const choices = s.candidates.map((c, i) => {
      const radio = h('input', { type: 'radio', name: groupId, id: `${groupId}-${i}`, value: c.intervenerId });
      const reasonsId = `${groupId}-${i}-why`;
      radio.setAttribute('aria-describedby', reasonsId);
      const full = c.openCases >= c.maxCaseload;
      return {
        candidate: c,
        radio,
        el: h(
          'div',
          { class: `candidate${full ? ' full' : ''}` },
          h(
            'label',
            { for: radio.id, class: 'check' },
            radio,
            h('span', {}, h('strong', {}, c.name), c.intervenerId === holder ? ' (holds it now)' : '', ` · score ${c.score}`),
          ),
          h(
            'ul',
            { id: reasonsId, class: 'reasons' },
            c.reasons.map((r) => h('li', {}, r)),
          ),
        ),
      };
    });
    const first = choices.find((c) => c.candidate.intervenerId !== holder);
    if (first) first.radio.checked = true;

    const override = h('input', { type: 'checkbox', id: nextId('override') });
    const reason = h('input', { type: 'text', autocomplete: 'off', maxlength: 1000 });
    const overrideBox = h(
      'div',
      { class: 'override', hidden: true },
      h('p', { class: 'hint' }, 'This intervener is at their caseload cap. Assign anyway only with a reason: it is recorded.'),
      h('label', { class: 'check', for: override.id }, override, h('span', {}, 'Override the caseload cap')),
      field('Reason', reason, { path: 'reason' }),
    );
    const selected = () => choices.find((c) => c.radio.checked)?.candidate ?? null;
    const showOverride = () => {
      const c = selected();
      overrideBox.hidden = !(c && c.openCases >= c.maxCaseload);
    };
    for (const c of choices) c.radio.addEventListener('change', showOverride);
    showOverride();

    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': `${groupId}-h` },
      h('h2', { id: `${groupId}-h` }, holder ? 'Reassign' : 'Assign'),
      choices.length
        ? h(
            'fieldset',
            { class: 'field candidates', 'aria-labelledby': `${groupId}-legend`, dataset: { path: 'intervenerId' }, id: `${groupId}-set` },
            h('legend', { id: `${groupId}-legend` }, 'Intervener'),
            h('p', { class: 'hint' }, 'Best match first, with the reasons for each.'),
            choices.map((c) => c.el),
            h('p', { class: 'field-error', id: `${groupId}-set-error`, hidden: true }),
          )
        : h('p', { class: 'empty' }, 'No active intervener in this program to assign to.'),
      overrideBox,
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Assign')),
      formStatus(),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const c = selected();
      const ok = await submitting(form, async () => {
        if (!c)
          throw new ApiError(400, {
            detail: 'Choose an intervener.',
            errors: [{ path: 'intervenerId', message: 'Choose one of the interveners above.' }],
          });
        const body = { intervenerId: c.intervenerId };
        if (override.checked) {
          body.override = true;
          if (reason.value.trim()) body.reason = reason.value.trim();
        }
        try {
          await post(`/v1/cases/${id}/assignment`, body);
        } catch (err) {
          // At the cap: say so, and offer the override right there.
          if (err.code === 'staff.over_capacity') overrideBox.hidden = false;
          throw err;
        }
      });
      if (ok) await afterTransition(`Case assigned to ${c.name}.`);
      else if (!overrideBox.hidden && !override.checked) override.focus();
    });
    return form;
  }

  function closeForm() {
    const outcome = select(
      OUTCOMES.map((o) => [o, words(o)]),
      { placeholder: 'Choose…' },
    );
    const note = h('textarea', { rows: 2, maxlength: 1000 });
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'close-heading' },
      h('h2', { id: 'close-heading' }, 'Close the case'),
      field('Outcome', outcome, { path: 'outcome' }),
      field('Closing note', note, { path: 'note', hint: 'Optional. No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Close case')),
      formStatus(),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(form, () =>
        post(`/v1/cases/${id}/close`, {
          ...(outcome.value ? { outcome: outcome.value } : {}),
          ...(note.value.trim() ? { note: note.value.trim() } : {}),
        }),
      );
      if (ok) await afterTransition('Case closed.');
    });
    return form;
  }

  function reopenForm() {
    const reason = h('input', { type: 'text', autocomplete: 'off', maxlength: 1000 });
    const form = h(
      'form',
      { class: 'panel', novalidate: true, 'aria-labelledby': 'reopen-heading' },
      h('h2', { id: 'reopen-heading' }, 'Reopen'),
      field('Reason', reason, { path: 'reason', hint: 'Why the case needs work again (e.g. they wrote back).' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Reopen case')),
      formStatus(),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ok = await submitting(form, () => post(`/v1/cases/${id}/reopen`, { reason: reason.value.trim() }));
      if (ok) await afterTransition('Case reopened.');
    });
    return form;
  }

  function renderHistory() {
    fill(
      history,
      h('h2', { id: 'history-heading' }, 'History'),
      h(
        'ol',
        { class: 'history' },
        [...s.events]
          .reverse()
          .map((e) =>
            h(
              'li',
              {},
              when(e.at),
              ' — ',
              h('strong', {}, EVENT_WORDS[e.kind] ?? words(e.kind)),
              e.kind === 'assign' && e.data?.intervenerId ? ` to ${ctx.staffName(e.data.intervenerId)}` : null,
              e.data?.override ? ' (over the caseload cap)' : null,
              e.kind === 'edited' && Array.isArray(e.data?.fields) ? ` (${e.data.fields.map(words).join(', ')})` : null,
              ` by ${ctx.staffName(e.actorId)}`,
              e.reason ? h('span', { class: 'meta' }, ` · reason: ${e.reason}`) : null,
            ),
          ),
      ),
    );
  }

  // ---- assembling the page ---------------------------------------------------------------
  renderHead();
  renderTimeline();
  renderFollowUps();
  renderConcerns();
  renderWorkflow();
  if (role === 'lead') renderHistory();

  const followUps =
    role === 'analyst'
      ? null
      : h(
          'section',
          { class: 'panel', 'aria-labelledby': 'followups-heading' },
          h('h2', { id: 'followups-heading' }, 'Follow-ups'),
          followUpList,
          canWork() ? scheduleForm() : null,
        );
  const concerns = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'concerns-heading' },
    h('h2', { id: 'concerns-heading' }, 'Safeguarding concerns'),
    concernList,
  );
  const work = canWork() ? logForm() : null;

  return h(
    'div',
    { class: 'view case-view' },
    pageAlert,
    head,
    concern.available ? [concern.bar, concern.form] : null,
    role === 'intervener' ? null : workflow,
    h(
      'div',
      { class: 'case-columns' },
      h('div', { class: 'col-main' }, work, timeline, notes, assessments),
      h('div', { class: 'col-side' }, followUps, concerns, holds, live() ? details.form : null, role === 'intervener' ? workflow : null),
    ),
    role === 'lead' ? history : null,
  );
}

function fact(term, dd, termId) {
  return h('div', {}, h('dt', termId ? { id: termId } : {}, term), dd);
}

/** `personal_story` → `Personal story`. */
const approachName = (a) => {
  const w = words(a);
  return w ? `${w[0].toUpperCase()}${w.slice(1)}` : w;
};

const kindWords = (kind) => FOLLOW_UP_KINDS.find(([k]) => k === kind)?.[1] ?? words(kind);

const optional = (key, value) => (value == null ? {} : { [key]: value });

/** "1.00" or "1,5" → cents; empty → null; anything else is refused next to the field. */
function parseCost(text) {
  const v = text.trim();
  if (!v) return null;
  if (!/^\d{1,7}([.,]\d{1,2})?$/.test(v)) {
    throw new ApiError(400, {
      detail: 'The cost is not an amount.',
      errors: [{ path: 'costCents', message: 'Write an amount such as 1.00, or leave it empty.' }],
    });
  }
  return Math.round(Number(v.replace(',', '.')) * 100);
}
