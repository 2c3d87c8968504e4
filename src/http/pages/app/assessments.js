// Assessments on the case page: the case's assessments, oldest first, each factor's score and its
// change against the previous assessment on the same template; and a form to record one, its
// factors scored 0–3 or unknown with buttons a thumb can hit (never a bare number field).

import { getAll, post } from './api.js';
import { fill, h, hiddenText, when } from './dom.js';
import { attempts, field, formAlert, nextId, select, submitting } from './forms.js';

const ASSESSOR_ROLES = ['lead', 'analyst', 'intervener'];
const PHASES = [
  ['baseline', 'Baseline'],
  ['review', 'Review'],
  ['closure', 'Closure'],
];
/** A factor's score: the value sent (null for unknown), the big figure, and the word under it. */
const SCORES = [
  ['0', '0', 'none'],
  ['1', '1', 'low'],
  ['2', '2', 'medium'],
  ['3', '3', 'high'],
  ['unknown', '?', 'unknown'],
];
const NOTE_MAX = 4000;

const phaseWord = (phase) => PHASES.find(([p]) => p === phase)?.[1] ?? phase;
const templateName = (t) => (t ? `${t.name} (version ${t.version})` : 'a template no longer listed');

/** "2 medium", or "unknown". */
export function scoreText(score) {
  if (score === null || score === undefined) return 'unknown';
  return `${score} ${SCORES[score]?.[2] ?? ''}`.trim();
}

/** "+1", "−2" (a real minus sign), "0", or "—" when either score is unknown. */
export function changeText(change) {
  if (change === null || change === undefined) return '—';
  if (change > 0) return `+${change}`;
  if (change < 0) return `\u2212${-change}`;
  return '0';
}

/** The Assessments section for case `c` (null for a role that reads none). */
export async function assessmentsSection(ctx, c) {
  const role = ctx.me.role;
  if (!ASSESSOR_ROLES.includes(role)) return null;
  let templates = [];
  let items = [];
  const loadProblem = h('div', { class: 'form-alert', role: 'alert', hidden: true });
  const load = async () => {
    [templates, items] = await Promise.all([
      getAll(`/v1/programs/${c.programId}/assessment-templates`, 400),
      getAll(`/v1/cases/${c.id}/assessments`, 1000),
    ]);
  };
  const list = h('div', { class: 'assessment-list' });
  const byId = (id) => templates.find((t) => t.id === id) ?? null;

  const render = () => {
    // Which assessments come first on their template: nothing to compare them with.
    const seen = new Set();
    fill(
      list,
      items.length
        ? h(
            'ol',
            { class: 'assessments' },
            items.map((a) => {
              const first = !seen.has(a.templateId);
              seen.add(a.templateId);
              return assessmentItem(ctx, a, byId(a.templateId), first);
            }),
          )
        : h('p', { class: 'empty' }, 'No assessment recorded yet.'),
    );
  };

  try {
    await load();
    render();
  } catch (err) {
    // Shown, never swallowed: the rest of the case page still works.
    fill(loadProblem, h('p', { class: 'detail' }, `The assessments could not be loaded: ${err.message}`));
    loadProblem.hidden = false;
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': 'assessments-heading' },
      h('h2', { id: 'assessments-heading' }, 'Assessments'),
      loadProblem,
    );
  }

  const writable = !c.erased;
  let body = null;
  if (!templates.length) {
    body = h(
      'p',
      { class: 'empty' },
      role === 'lead'
        ? 'This program has no assessment template yet. Create one (POST /v1/programs/{id}/assessment-templates), then record assessments here.'
        : 'This program has no assessment template yet: a lead creates them, and you can record assessments here once there is one.',
    );
  } else if (writable) {
    body = writer(
      ctx,
      c,
      () => ({ templates, items }),
      async () => {
        await load();
        render();
      },
    );
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'assessments-heading' },
    h('h2', { id: 'assessments-heading' }, 'Assessments'),
    h('p', { class: 'hint' }, 'How things stand for this person, scored from 0 (none) to 3 (high), so change can be seen over time.'),
    list,
    body,
  );
}

function assessmentItem(ctx, a, template, first) {
  const factors = template?.factors ?? Object.keys(a.scores).map((key) => ({ key, label: key }));
  const captionId = nextId('assessment');
  return h(
    'li',
    { class: `assessment assessment-${a.phase}` },
    h(
      'p',
      { class: 'tp-head', id: captionId },
      h('strong', {}, phaseWord(a.phase)),
      ` · ${templateName(template)} · by ${ctx.staffName(a.assessedBy)} · `,
      when(a.createdAt),
    ),
    h(
      'table',
      { class: 'scores', 'aria-labelledby': captionId },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Factor'),
          h('th', { scope: 'col' }, 'Score'),
          first ? null : h('th', { scope: 'col' }, 'Change'),
        ),
      ),
      h(
        'tbody',
        {},
        factors.map((f) => {
          const change = a.change?.[f.key] ?? null;
          return h(
            'tr',
            { dataset: { factor: f.key } },
            h('th', { scope: 'row' }, f.label),
            h('td', { class: a.scores[f.key] == null ? 'unknown' : null }, scoreText(a.scores[f.key])),
            first
              ? null
              : h(
                  'td',
                  { class: 'change' },
                  // A dash is no word to a screen reader: it hears why there is no figure.
                  change === null
                    ? [h('span', { 'aria-hidden': 'true' }, changeText(change)), hiddenText('not comparable')]
                    : changeText(change),
                ),
          );
        }),
      ),
    ),
    first ? h('p', { class: 'meta' }, 'The first on this template: later ones show the change from the one before.') : null,
    a.note ? h('p', { class: 'assessment-note' }, a.note) : null,
  );
}

/** "Record an assessment" opens the form in place (built fresh each time); Cancel or a save closes it. */
function writer(ctx, c, current, reload) {
  const slotId = nextId('assessment-form');
  const slot = h('div', { id: slotId });
  const status = h('p', { class: 'form-status', role: 'status' });
  const opener = h(
    'button',
    { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': slotId },
    'Record an assessment',
  );
  const open = (yes) => {
    opener.hidden = yes;
    opener.setAttribute('aria-expanded', String(yes));
    if (yes) {
      status.textContent = '';
      const form = assessmentForm(ctx, c, current(), {
        cancel: () => open(false),
        saved: async (text) => {
          open(false);
          status.textContent = text;
          try {
            await reload();
          } catch (err) {
            status.textContent = `${text} The list could not be brought up to date: ${err.message} Reload the page.`;
          }
        },
      });
      fill(slot, form);
      form.querySelector('select, input')?.focus();
    } else {
      fill(slot);
      opener.focus();
    }
  };
  opener.addEventListener('click', () => open(true));
  return h('div', { class: 'assessment-writer' }, h('div', { class: 'actions' }, opener), status, slot);
}

/**
 * Radio buttons drawn as one row of segments, under a legend that names the group; `path` is the
 * body field its errors come back on.
 */
function segments(legend, options, { path, name, value, hint, className = '' }) {
  const id = nextId('seg');
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  return h(
    'fieldset',
    {
      class: `field segmented-field ${className}`.trim(),
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
        if (v === value) radio.checked = true;
        return h(
          'label',
          { class: 'segment', for: radio.id },
          radio,
          // The "?" of unknown is a picture of the word under it: read once, as "unknown".
          h('span', { class: 'segment-big', 'aria-hidden': big === '?' ? 'true' : null }, big),
          small ? h('span', { class: 'segment-small' }, small) : null,
        );
      }),
    ),
    errorEl,
  );
}

const chosen = (group) => group.querySelector('input[type=radio]:checked')?.value ?? null;

function assessmentForm(ctx, c, { templates, items }, { cancel, saved }) {
  const role = ctx.me.role;
  const phases = role === 'analyst' ? PHASES.filter(([p]) => p === 'baseline') : PHASES;
  // The template last used on this case, else the newest.
  const lastUsed = items.length ? items[items.length - 1].templateId : null;
  const initial = templates.find((t) => t.id === lastUsed) ?? templates[templates.length - 1];
  const picker =
    templates.length > 1
      ? select(
          templates.map((t) => [t.id, templateName(t)]),
          { value: initial.id },
        )
      : null;
  const templateOf = () => (picker ? templates.find((t) => t.id === picker.value) : templates[0]);
  const defaultPhase = (t) => {
    if (role === 'analyst') return 'baseline';
    if (c.status === 'closed') return 'closure';
    return items.some((a) => a.templateId === t.id) ? 'review' : 'baseline';
  };

  const phaseSlot = h('div');
  const factorSlot = h('div', { class: 'factor-list' });
  let phaseGroup = null;
  let factorGroups = [];
  const build = () => {
    const t = templateOf();
    const group = nextId('phase');
    phaseGroup =
      phases.length > 1
        ? segments(
            'Phase',
            phases.map(([p, label]) => [p, label]),
            {
              path: 'phase',
              name: group,
              value: defaultPhase(t),
              hint: 'Baseline before or at first contact; review along the way; closure when the case ends.',
              className: 'phases',
            },
          )
        : null;
    fill(phaseSlot, phaseGroup ?? h('p', { class: 'hint' }, 'Phase: baseline (an analyst records the baseline only).'));
    factorGroups = t.factors.map((f) => ({
      key: f.key,
      el: segments(f.label, SCORES, {
        path: `scores.${f.key}`,
        name: nextId(`score-${f.key}`),
        value: 'unknown',
        className: 'scores-field',
      }),
    }));
    fill(
      factorSlot,
      factorGroups.map((g) => g.el),
    );
  };
  build();
  picker?.addEventListener('change', build);

  const note = h('textarea', { rows: 3, maxlength: NOTE_MAX });
  const tries = attempts();
  const cancelButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h(
    'form',
    { class: 'subform assessment-form', novalidate: true, 'aria-labelledby': 'assessment-form-heading' },
    h('h3', { id: 'assessment-form-heading' }, 'New assessment'),
    picker
      ? field('Template', picker, { path: 'templateId', hint: 'Compare like with like: use the template of the earlier assessments.' })
      : h('p', { class: 'hint', dataset: { path: 'templateId' }, id: nextId('tpl') }, `Template: ${templateName(templates[0])}`),
    phaseSlot,
    h('p', { class: 'hint scale-hint' }, 'For each factor: 0 none, 1 low, 2 medium, 3 high, or unknown if you cannot tell yet.'),
    factorSlot,
    field('Note', note, { path: 'note', hint: `Optional, up to ${NOTE_MAX} characters. No names, handles or links.` }),
    formAlert(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Record assessment'), cancelButton),
  );
  cancelButton.addEventListener('click', cancel);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const t = templateOf();
    const phase = phaseGroup ? chosen(phaseGroup) : 'baseline';
    const scores = Object.fromEntries(
      factorGroups.map((g) => {
        const v = chosen(g.el);
        return [g.key, v === null || v === 'unknown' ? null : Number(v)];
      }),
    );
    const ok = await submitting(
      form,
      async () => {
        const attempt = tries.take(JSON.stringify([t.id, phase, scores, note.value]), () => ({
          templateId: t.id,
          phase,
          scores,
          ...(note.value.trim() ? { note: note.value.trim() } : {}),
        }));
        await post(`/v1/cases/${c.id}/assessments`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
          tries.failed(err);
          throw err;
        });
        tries.done();
      },
      { retrySafe: true, action: 'Record assessment' },
    );
    if (!ok) return;
    await saved(`${phaseWord(phase)} assessment recorded.`);
  });
  return form;
}
