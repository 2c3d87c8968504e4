// Reviews (leads, analysts, interveners): the closed cases waiting for the caller's independent
// review of their outcome, each shown by its anonymous facts and touchpoints only (never a handle
// or a name), with a form to code it. Review is blind: nobody else's review shows until the
// caller's own is in. Leads also settle disputed cases (reviews that disagree) by adjudication.
// Only case ids travel in URLs.

import { ApiError, get, getAll, post } from './api.js';
import { badge, fill, h, IDEOLOGIES, PLATFORMS, when, words } from './dom.js';
import { attempts, checkboxes, checked, field, formAlert, nextId, select, submitting } from './forms.js';

const OUTCOMES = ['positive_change', 'disengaged', 'no_response', 'declined', 'referred', 'unsafe_to_continue', 'other'];
const STAGES = ['none', 'contacted', 'responded', 'sustained'];
/** The stage an outcome needs (as the API's closing and review rules have it). */
const OUTCOME_NEEDS = { positive_change: 'responded', disengaged: 'responded', declined: 'responded', no_response: 'contacted' };
const CONFIDENCES = [
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
];
/**
 * The API's default signal codebook (../shared/API.md). A lead reads the program's own from its
 * settings; the API gives no codebook to analysts and interveners, so they are offered this one
 * (a code the program dropped is refused next to Signals).
 */
const DEFAULT_CODEBOOK = ['expressed_doubt', 'reduced_hostility', 'accepted_support', 'left_group_space', 'sought_help', 'none'];

const STATUS = {
  self_reported: ['self-reported', 'plain'],
  provisional: ['provisional: waiting for review', 'warn'],
  confirmed: ['confirmed', 'ok'],
  disputed: ['disputed: the reviews disagree', 'danger-soft'],
  adjudicated: ['adjudicated', 'ok'],
};
const STATUS_AFTER = {
  provisional: 'The case stays provisional until its other review is in.',
  confirmed: 'The reviews agree: the case is now confirmed.',
  disputed: 'The reviews disagree: the case is now disputed, and a lead will adjudicate it.',
  adjudicated: 'The case is now adjudicated.',
};

/** What a card is called: no identity, a short part of the case id to tell cards apart. */
const caseRef = (id) => `Case ${id.slice(-6)}`;
const outcomesFor = (stage) =>
  OUTCOMES.filter((o) => !OUTCOME_NEEDS[o] || STAGES.indexOf(stage) >= STAGES.indexOf(OUTCOME_NEEDS[o])).map((o) => [o, words(o)]);
const statusBadge = (status) => (status ? badge(...(STATUS[status] ?? [words(status), 'plain'])) : null);
/** A field refusal the page knows before asking the server, shown as the server's would be. */
const refusal = (errors) => new ApiError(400, { detail: 'Some fields need attention: see below.', errors });

function keepFocus(target) {
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected) target.focus();
}

const platformWords = (p) => PLATFORMS[p] ?? words(p);

function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}

/** The anonymous facts of a case (a review packet or a case row): never its profile. */
function facts(c) {
  return h(
    'dl',
    { class: 'facts review-facts' },
    fact('Ideology', IDEOLOGIES[c.ideology] ?? words(c.ideology)),
    // A case row carries the platform in its profile: only that is read of it.
    fact('Platform', platformWords(c.platform ?? c.profile?.platform)),
    fact('Risk', c.riskLevel),
    fact('Stage reached', words(c.stage)),
    c.touchpointCount != null ? fact('Touchpoints', `${c.touchpointCount} (${c.inboundCount} from them)`) : null,
    fact('Self-reported outcome', c.outcome ? words(c.outcome) : 'none'),
    fact('Closed', c.closedAt ? when(c.closedAt) : '—'),
  );
}

function touchpointList(touchpoints) {
  if (!touchpoints.length) return h('p', { class: 'empty' }, 'No touchpoint was logged.');
  return h(
    'details',
    { class: 'team-action review-tps', open: true },
    h('summary', {}, `Touchpoints (${touchpoints.length})`),
    h(
      'ol',
      { class: 'timeline' },
      touchpoints.map((t) =>
        h(
          'li',
          { class: `tp tp-${t.direction}` },
          h(
            'p',
            { class: 'tp-head' },
            h('strong', {}, t.direction === 'outbound' ? 'Sent to them' : 'Received from them'),
            ` · ${words(t.channel)} · `,
            when(t.occurredAt),
          ),
          t.summary ? h('p', { class: 'tp-summary' }, t.summary) : null,
          t.approaches.length || t.sentiment
            ? h(
                'p',
                { class: 'meta' },
                [
                  t.approaches.length ? `Approaches: ${t.approaches.map(words).join(', ')}` : null,
                  t.sentiment ? `Sentiment: ${t.sentiment}` : null,
                ]
                  .filter(Boolean)
                  .join(' · '),
              )
            : null,
        ),
      ),
    ),
  );
}

export async function renderReviews(ctx) {
  const me = ctx.me;
  const asLead = me.role === 'lead';
  let program = null;
  let codebook = DEFAULT_CODEBOOK;

  /** Who wrote a review, as this caller may know it. */
  const reviewer = (r, i) => {
    if (r.reviewerId === me.id) return 'You';
    if (r.kind === 'adjudication') return `Adjudicated by ${asLead ? ctx.staffName(r.reviewerId) : 'a lead'}`;
    return asLead ? `Reviewer ${i + 1} (${ctx.staffName(r.reviewerId)})` : 'Another reviewer';
  };

  function reviewItems(list) {
    const items = list.items;
    let n = 0;
    return h(
      'ul',
      { class: 'reviews-list', 'aria-label': 'Reviews' },
      items.map((r) => {
        const who = reviewer(r, r.kind === 'review' ? n++ : 0);
        return h(
          'li',
          { class: `review-item review-${r.kind}` },
          h(
            'p',
            { class: 'review-head' },
            h('strong', {}, who),
            ': ',
            words(r.outcome),
            r.confidence ? ` · ${r.confidence} confidence` : null,
          ),
          h('p', { class: 'meta' }, `Signals: ${r.signals.length ? r.signals.map(words).join(', ') : 'none named'}`),
          r.note ? h('p', { class: 'review-note' }, r.note) : null,
        );
      }),
    );
  }

  // ---- one pending case -----------------------------------------------------------------------

  function pendingCard(p) {
    const titleId = nextId('r');
    const result = h('div', { class: 'team-result', role: 'status', tabindex: '-1' });
    const badges = h(
      'p',
      { class: 'badges' },
      statusBadge(p.outcomeStatus),
      badge(`${p.reviewsIn} of ${p.reviewsRequired} reviews in`, 'plain'),
    );
    const outcome = select(outcomesFor(p.stage), { placeholder: 'Choose…' });
    const signals = checkboxes(
      'Signals',
      (p.signalCodebook ?? codebook).map((s) => [s, words(s)]),
      { path: 'signals', hint: 'Every signal the touchpoints show; “none” when none does.' },
    );
    const confidence = select(CONFIDENCES, { placeholder: 'Choose…' });
    const note = h('textarea', { rows: 3, maxlength: 2000 });
    const tries = attempts();
    const form = h(
      'form',
      { class: 'team-form review-form', novalidate: true, 'aria-label': `Review ${caseRef(p.caseId)}` },
      h(
        'div',
        { class: 'grid-2' },
        field('Outcome', outcome, { path: 'outcome', hint: 'What you judge happened, from the touchpoints alone.' }),
        field('Confidence', confidence, { path: 'confidence' }),
      ),
      signals,
      field('Note', note, { path: 'note', hint: 'Optional: why. No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Submit review')),
    );
    const root = h(
      'li',
      { class: 'card review-card', dataset: { caseId: p.caseId } },
      h(
        'article',
        { 'aria-labelledby': titleId },
        h('h3', { class: 'card-title', id: titleId }, caseRef(p.caseId)),
        badges,
        h(
          'div',
          { class: 'review-body' },
          h('div', { class: 'review-case' }, facts(p), touchpointList(p.touchpoints)),
          h(
            'div',
            { class: 'review-side' },
            p.reviewsIn > 0 ? h('p', { class: 'meta blind' }, 'Other reviews stay hidden until yours is in.') : null,
            result,
            form,
          ),
        ),
      ),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      let receipt = null;
      let replayed = false;
      const ok = await submitting(
        form,
        async () => {
          const missing = [];
          if (!outcome.value) missing.push({ path: 'outcome', message: 'Choose the outcome you judge.' });
          if (!confidence.value) missing.push({ path: 'confidence', message: 'Choose how sure you are.' });
          if (missing.length) throw refusal(missing);
          const codes = checked(signals);
          const snapshot = JSON.stringify([outcome.value, confidence.value, codes, note.value]);
          const attempt = tries.take(snapshot, () => ({
            outcome: outcome.value,
            signals: codes,
            confidence: confidence.value,
            ...(note.value.trim() ? { note: note.value.trim() } : {}),
          }));
          const res = await post(`/v1/cases/${p.caseId}/outcome-reviews`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
            tries.failed(err);
            throw err;
          });
          tries.done();
          receipt = res.data;
          replayed = res.replayed;
        },
        { retrySafe: true, action: 'Submit review' },
      );
      if (!ok) return;
      // Now, and only now, the others' reviews may be read.
      let list = null;
      try {
        list = await get(`/v1/cases/${p.caseId}/outcome-reviews`);
      } catch {
        // The review is in; the list is a courtesy and the page says so below.
      }
      const status = list?.outcomeStatus ?? receipt.outcomeStatus;
      fill(
        badges,
        statusBadge(status),
        list ? badge(`${list.reviewsIn} of ${list.reviewsRequired ?? p.reviewsRequired} reviews in`, 'plain') : null,
      );
      root.querySelector('.blind')?.remove();
      form.remove();
      fill(
        result,
        h(
          'p',
          { class: 'result-head' },
          replayed ? 'Review submitted (the first try had reached the server: it counts once).' : 'Review submitted.',
        ),
        h('p', {}, STATUS_AFTER[status] ?? `The case is now ${words(status)}.`),
        !list
          ? h('p', { class: 'meta' }, 'The reviews could not be loaded: reload the page to see them.')
          : status === 'provisional' && !list.items.some((r) => r.reviewerId !== me.id)
            ? h('p', { class: 'meta' }, 'No other review is in yet.')
            : null,
      );
      if (list) result.after(h('section', { class: 'review-others', 'aria-label': `Reviews of ${caseRef(p.caseId)}` }, reviewItems(list)));
      keepFocus(result);
    });
    return root;
  }

  // ---- one disputed case (leads) --------------------------------------------------------------

  function disputedCard(c, list) {
    const titleId = nextId('d');
    const result = h('div', { class: 'team-result', role: 'status', tabindex: '-1' });
    const badges = h('p', { class: 'badges' }, statusBadge(c.outcomeStatus));
    const outcome = select(outcomesFor(c.stage), { placeholder: 'Choose…' });
    const signals = checkboxes(
      'Signals',
      codebook.map((s) => [s, words(s)]),
      { path: 'signals', hint: 'The signals the case shows, as you settle it.' },
    );
    const note = h('textarea', { rows: 3, maxlength: 2000 });
    const tries = attempts();
    const form = h(
      'form',
      { class: 'team-form review-form', novalidate: true, 'aria-label': `Adjudicate ${caseRef(c.id)}` },
      field('Outcome', outcome, { path: 'outcome', hint: 'The outcome reports will count for this case.' }),
      signals,
      field('Note', note, { path: 'note', hint: 'Why you settled it so (needed). No names, handles or links.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Adjudicate')),
    );
    const root = h(
      'li',
      { class: 'card review-card disputed-card', dataset: { caseId: c.id } },
      h(
        'article',
        { 'aria-labelledby': titleId },
        h('h3', { class: 'card-title', id: titleId }, caseRef(c.id)),
        badges,
        h(
          'div',
          { class: 'review-body' },
          h(
            'div',
            { class: 'review-case' },
            facts(c),
            h('h4', {}, 'Reviews'),
            reviewItems(list),
            h(
              'p',
              { class: 'meta' },
              h('a', { href: `#/case/${c.id}` }, 'Open the case', h('span', { class: 'visually-hidden' }, ` ${caseRef(c.id)}`)),
              ' to read its touchpoints.',
            ),
          ),
          h('div', { class: 'review-side' }, result, form),
        ),
      ),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      let receipt = null;
      const ok = await submitting(
        form,
        async () => {
          const missing = [];
          if (!outcome.value) missing.push({ path: 'outcome', message: 'Choose the outcome that stands.' });
          if (!note.value.trim()) missing.push({ path: 'note', message: 'Say why: the note is kept with the decision.' });
          if (missing.length) throw refusal(missing);
          const codes = checked(signals);
          const snapshot = JSON.stringify([outcome.value, codes, note.value]);
          const attempt = tries.take(snapshot, () => ({ outcome: outcome.value, signals: codes, note: note.value.trim() }));
          const res = await post(`/v1/cases/${c.id}/outcome-adjudication`, attempt.body, { 'idempotency-key': attempt.key }).catch(
            (err) => {
              tries.failed(err);
              throw err;
            },
          );
          tries.done();
          receipt = res.data;
        },
        { retrySafe: true, action: 'Adjudicate' },
      );
      if (!ok) return;
      fill(badges, statusBadge(receipt.outcomeStatus));
      form.remove();
      fill(
        result,
        h('p', { class: 'result-head' }, `Adjudicated: ${words(receipt.outcome)}.`),
        h('p', {}, 'The case is now adjudicated; reports count this outcome.'),
      );
      keepFocus(result);
    });
    return root;
  }

  // ---- the page -------------------------------------------------------------------------------

  const [pending, closed] = await Promise.all([
    getAll('/v1/reviews/pending', 500),
    asLead ? getAll('/v1/cases?status=closed', 2000) : null,
    asLead
      ? get(`/v1/programs/${me.programId}`).then((p) => {
          program = p;
        })
      : null,
  ]);
  if (program?.settings?.signalCodebook?.length) {
    codebook = program.settings.signalCodebook;
  }
  const disputed = (closed ?? []).filter((c) => c.outcomeStatus === 'disputed' && !c.erased);
  const lists = await Promise.all(disputed.map((c) => get(`/v1/cases/${c.id}/outcome-reviews`)));

  const reviewOff = program && program.settings?.outcomeReview !== 'required';
  const pendingSection = h(
    'section',
    { 'aria-labelledby': 'pending-heading' },
    h('h2', { id: 'pending-heading' }, 'Waiting for your review'),
    pending.length
      ? h('ul', { class: 'cards review-cards', 'aria-label': 'Cases waiting for your review' }, pending.map(pendingCard))
      : h('p', { class: 'empty' }, 'Nothing is waiting for your review.'),
  );
  const disputedSection = asLead
    ? h(
        'section',
        { 'aria-labelledby': 'disputed-heading' },
        h('h2', { id: 'disputed-heading' }, 'Disputed'),
        h(
          'p',
          { class: 'lede' },
          'Closed cases whose reviews disagree on the outcome. Read the reviews and the case, then settle it: a lead who held the case may not.',
        ),
        disputed.length
          ? h(
              'ul',
              { class: 'cards review-cards', 'aria-label': 'Disputed cases' },
              disputed.map((c, i) => disputedCard(c, lists[i])),
            )
          : h('p', { class: 'empty' }, 'No disputed case.'),
      )
    : null;

  return h(
    'section',
    { class: 'view reviews' },
    h('h1', {}, 'Reviews'),
    h(
      'p',
      { class: 'lede' },
      'Independent review of closed cases’ outcomes: you see what review needs, never who the person is, and no other review until yours is in. You are never asked to review a case you held.',
    ),
    reviewOff ? h('p', { class: 'meta' }, 'Outcome review is off in this program’s settings: closed cases stay self-reported.') : null,
    pendingSection,
    disputedSection,
  );
}
