// Triage: flag a public profile (a pasted profile URL is enough: the API normalises it), and
// accept or reject what is waiting, each with a reason.

import { getAll, post } from './api.js';
import { fill, h, handleText, hiddenText, IDEOLOGIES, PLATFORMS, profileName, when, words } from './dom.js';
import { attempts, field, formAlert, formStatus, nextId, said, select, submitting } from './forms.js';

/** Which platform a profile URL is on, from its host (`www.`, `m.` and `mobile.` forms too). */
const HOSTS = {
  'x.com': 'x',
  'twitter.com': 'x',
  'facebook.com': 'facebook',
  'fb.com': 'facebook',
  'instagram.com': 'instagram',
  'youtube.com': 'youtube',
  'youtu.be': 'youtube',
  'tiktok.com': 'tiktok',
  't.me': 'telegram',
  'telegram.me': 'telegram',
  'reddit.com': 'reddit',
};

export function platformOf(text) {
  let url;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return null;
  }
  if (!url.hostname.includes('.')) return null;
  return HOSTS[url.hostname.toLowerCase().replace(/^(www|m|mobile)\./, '')] ?? null;
}

/** The URL to keep on the profile: only a real http(s) URL, without query or fragment. */
function profileUrlOf(text) {
  if (!/^https?:\/\//i.test(text)) return null;
  try {
    const url = new URL(text);
    return `${url.origin}${url.pathname}`;
  } catch {
    return null;
  }
}

export async function renderTriage(ctx) {
  const list = h('div', { class: 'triage-list' });
  const status = h('p', { class: 'form-status', role: 'status' });

  async function load() {
    const flagged = await getAll('/v1/cases?status=flagged', 400);
    fill(
      list,
      flagged.length
        ? h(
            'div',
            { class: 'cards' },
            flagged.map((c) => triageCard(c, load, status)),
          )
        : h('p', { class: 'empty' }, 'Nothing is waiting for triage.'),
    );
  }
  await load();

  return h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Triage'),
    flagForm(ctx, load),
    h('section', { 'aria-labelledby': 'waiting-heading' }, h('h2', { id: 'waiting-heading' }, 'Waiting for triage'), status, list),
  );
}

function flagForm(ctx, reload) {
  const where = h('input', { type: 'text', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', maxlength: 2000 });
  const platform = select(Object.entries(PLATFORMS), { placeholder: 'Choose…' });
  const displayName = h('input', { type: 'text', autocomplete: 'off', maxlength: 200 });
  const language = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 35 });
  const ideology = select(Object.entries(IDEOLOGIES), { placeholder: 'Choose…' });
  const risk = select(
    [
      ['low', 'low'],
      ['medium', 'medium'],
      ['high', 'high'],
    ],
    { placeholder: 'Choose…' },
  );
  const indicator = h('input', { type: 'text', autocomplete: 'off', maxlength: 100 });
  const evidence = h('input', { type: 'url', autocomplete: 'off', spellcheck: 'false', maxlength: 2000 });
  const tries = attempts();
  const result = h('div', { class: 'flag-result' });
  let platformChosen = false;
  platform.addEventListener('change', () => {
    platformChosen = platform.value !== '';
  });
  where.addEventListener('input', () => {
    const found = platformOf(where.value.trim());
    if (found && !platformChosen) platform.value = found;
  });

  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'flag-heading' },
    h('h2', { id: 'flag-heading' }, 'Flag a public profile'),
    h('p', { class: 'hint' }, 'Only public accounts and public posts. Overture never contacts anyone.'),
    field('Profile URL or handle', where, {
      path: 'profile.handle profile.url profile',
      hint: 'Paste the profile’s address (e.g. https://x.com/name) or type its handle.',
    }),
    h(
      'div',
      { class: 'grid-2' },
      field('Platform', platform, { path: 'profile.platform', hint: 'Filled in from a pasted address.' }),
      field('Display name', displayName, { path: 'profile.displayName', hint: 'Optional.' }),
    ),
    h(
      'div',
      { class: 'grid-3' },
      field('Ideology', ideology, { path: 'ideology' }),
      field('Risk level', risk, { path: 'riskLevel' }),
      field('Language', language, { path: 'profile.language', hint: 'Optional, e.g. en.' }),
    ),
    h(
      'div',
      { class: 'grid-2' },
      field('Indicator', indicator, { path: 'indicators.0.kind indicators', hint: 'Optional: what you saw, e.g. shares propaganda.' }),
      field('Evidence link', evidence, { path: 'indicators.0.evidenceUrl', hint: 'Optional: a public post showing it.' }),
    ),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Flag a profile')),
    formStatus(),
    result,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(result);
    let created = null;
    const values = [where, platform, displayName, language, ideology, risk, indicator, evidence].map((c) => c.value.trim());
    const ok = await submitting(
      form,
      async () => {
        const attempt = tries.take(JSON.stringify(values), () => {
          const text = where.value.trim();
          const url = profileUrlOf(text);
          const kind = indicator.value.trim();
          return {
            programId: ctx.me.programId,
            profile: {
              ...(platform.value ? { platform: platform.value } : {}),
              handle: text,
              ...(url ? { url } : {}),
              ...(displayName.value.trim() ? { displayName: displayName.value.trim() } : {}),
              ...(language.value.trim() ? { language: language.value.trim() } : {}),
            },
            ...(ideology.value ? { ideology: ideology.value } : {}),
            ...(risk.value ? { riskLevel: risk.value } : {}),
            indicators:
              kind || evidence.value.trim()
                ? [{ kind: kind || 'evidence', ...(evidence.value.trim() ? { evidenceUrl: evidence.value.trim() } : {}) }]
                : [],
          };
        });
        try {
          created = (await post('/v1/cases', attempt.body, { 'idempotency-key': attempt.key })).data;
          tries.done();
        } catch (err) {
          tries.failed(err);
          // Already open in the program: point at that case instead.
          if (err.code === 'case.duplicate' && err.problem?.caseId) {
            fill(result, h('p', {}, h('a', { href: `#/case/${err.problem.caseId}` }, 'Open the existing case')));
          }
          throw err;
        }
      },
      { retrySafe: true, action: 'Flag a profile' },
    );
    if (!ok) return;
    for (const c of [where, displayName, language, indicator, evidence]) c.value = '';
    for (const c of [platform, ideology, risk]) c.value = '';
    platformChosen = false;
    said(form, `Flagged: ${profileName(created.profile)} is waiting for triage.`);
    fill(result, h('p', {}, h('a', { href: `#/case/${created.id}` }, 'Open the new case')));
    await reload();
  });
  return form;
}

function triageCard(c, reload, status) {
  const titleId = nextId('t');
  const reason = h('input', { type: 'text', autocomplete: 'off', maxlength: 1000 });
  const accept = h('button', { type: 'button' }, 'Accept');
  const reject = h('button', { type: 'button', class: 'secondary' }, 'Reject');
  const handle = handleText(c.profile);
  const card = h(
    'article',
    { class: 'card', 'aria-labelledby': titleId },
    h('h3', { id: titleId, class: 'card-title' }, h('a', { href: `#/case/${c.id}` }, profileName(c.profile))),
    h(
      'p',
      { class: 'meta' },
      [c.profile.displayName && handle ? handle : null, PLATFORMS[c.profile.platform], IDEOLOGIES[c.ideology], `risk ${c.riskLevel}`]
        .filter(Boolean)
        .join(' · '),
      h('br'),
      'Flagged ',
      when(c.flaggedAt),
    ),
    c.indicators.length
      ? h(
          'ul',
          { class: 'indicators' },
          c.indicators.map((i) =>
            h(
              'li',
              {},
              words(i.kind),
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
        )
      : null,
    field('Reason', reason, { path: 'reason' }),
    formAlert(),
    h('div', { class: 'actions' }, accept, reject),
  );
  const decide = (decision) => async () => {
    const ok = await submitting(card, () => post(`/v1/cases/${c.id}/triage`, { decision, reason: reason.value.trim() }));
    if (!ok) return;
    const text = `${decision === 'accept' ? 'Accepted' : 'Rejected'}: ${profileName(c.profile)}.`;
    await reload();
    status.textContent = text;
    document.getElementById('waiting-heading')?.setAttribute('tabindex', '-1');
    document.getElementById('waiting-heading')?.focus();
  };
  accept.addEventListener('click', decide('accept'));
  reject.addEventListener('click', decide('reject'));
  return card;
}
