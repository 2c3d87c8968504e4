// Team (leads) and My absences (interveners). A lead sees each active intervener of the program:
// in or away now (until when, and who covers), what they hold, a Hand over form that moves all
// their cases (to one colleague, or each to its best-ranked candidate) and their absences; above
// them, any active case whose holder was deactivated, waiting for a handover. An intervener
// records and ends their own absences (naming a cover is a lead's call). Only ids travel in URLs.

import { ApiError, call, get, getAll, post } from './api.js';
import { badge, fill, fromLocalInput, h, hiddenText, profileName, toLocalInput, when, words } from './dom.js';
import { attempts, field, formAlert, formStatus, nextId, said, select, submitting } from './forms.js';
import { supervisionSection } from './welfare.js';

/** Why a handover left a case where it was, in words; any other code by its last part. */
const SKIPPED = {
  'staff.over_capacity': 'at capacity',
  'staff.absent': 'the receiver is absent',
  'staff.over_exposure': 'the receiver is over the exposure cap',
  'staff.avoids_topic': 'the receiver opted out of the topic',
  'staff.inactive': 'the receiver is deactivated',
  'handover.no_candidate': 'nobody else can take it',
  'case.already_assigned': 'already held by the receiver',
};
const skippedWords = (code) => SKIPPED[code] ?? words(String(code).split('.').pop());
const plural = (n, one) => `${n} ${n === 1 ? one : `${one}s`}`;
const RANKED = 'ranked';

/** `[key, count]` in first-seen order. */
function countBy(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts];
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return groups;
}

/** Puts the focus on `target` when what had it went away (a button of a list that was redrawn, a form now hidden). */
function keepFocus(target) {
  const active = document.activeElement;
  if (!active || active === document.body || !active.isConnected || active.closest('[hidden]') || active.closest('details:not([open])')) {
    target.focus();
  }
}

/** A field refusal the page knows before asking the server, shown as the server's would be. */
const refusal = (errors) => new ApiError(400, { detail: 'Some fields need attention: see below.', errors });

export function renderTeam(ctx) {
  return teamView(ctx, true);
}

export function renderMyAbsences(ctx) {
  return teamView(ctx, false);
}

async function teamView(ctx, asLead) {
  const me = ctx.me;
  /** Active interveners shown (a lead: the program's, by name; an intervener: themself). */
  let people = [];
  const names = new Map();
  /** staffId → absences not over yet, soonest first. */
  let absences = new Map();
  /** staffId → the active cases they hold (leads). */
  let holding = new Map();
  /** deactivated holder id → their active cases (leads). */
  let orphans = new Map();
  let defaultCap = null;

  const nameOf = (id) => (id === me.id ? 'you' : (names.get(id) ?? ctx.staffName(id)));
  const capOf = (p) => p.maxCaseload ?? defaultCap;
  const currentAbsence = (id, now = Date.now()) => (absences.get(id) ?? []).find((a) => Date.parse(a.from) <= now);
  const full = (p) => {
    const cap = capOf(p);
    return cap !== null && (holding.get(p.id)?.length ?? 0) >= cap;
  };

  async function load() {
    const now = Date.now();
    if (asLead) {
      const [staff, active, orphaned, program] = await Promise.all([
        getAll('/v1/staff?role=intervener', 1000),
        getAll('/v1/cases?status=active', 2000),
        getAll('/v1/cases?orphaned=true', 1000),
        defaultCap === null ? get(`/v1/programs/${me.programId}`) : null,
      ]);
      if (program) defaultCap = program.settings?.defaultMaxCaseload ?? null;
      for (const s of staff) names.set(s.id, s.name);
      people = staff.filter((s) => s.active).sort((a, b) => a.name.localeCompare(b.name));
      holding = groupBy(active, (c) => c.assigneeId);
      orphans = groupBy(orphaned, (c) => c.assigneeId);
    } else {
      people = [{ id: me.id, name: me.name, active: true, maxCaseload: null }];
    }
    const lists = await Promise.all(people.map((p) => getAll(`/v1/staff/${p.id}/absences`, 400)));
    absences = new Map(
      people.map((p, i) => [
        p.id,
        lists[i].filter((a) => Date.parse(a.to) > now).sort((a, b) => Date.parse(a.from) - Date.parse(b.from) || a.id.localeCompare(b.id)),
      ]),
    );
  }

  /** Who may take `holderId`'s cases: the option "best ranked", then each other active intervener. */
  function receiverOptions(holderId) {
    return [
      [RANKED, 'Best ranked for each case'],
      ...people
        .filter((p) => p.id !== holderId)
        .map((p) => [p.id, `${p.name}${currentAbsence(p.id) ? ' (absent)' : full(p) ? ' (at capacity)' : ''}`]),
    ];
  }

  /** Refills a select's options, keeping the choice when it is still offered. */
  function refillSelect(el, options, placeholder) {
    const keep = el.value;
    fill(
      el,
      h('option', { value: '' }, placeholder),
      options.map(([v, label]) => h('option', { value: v }, label)),
    );
    el.value = options.some(([v]) => v === keep) ? keep : '';
  }

  // ---- Hand over ------------------------------------------------------------------------------

  /** A Hand over form for `holder`'s cases; `shown(result, casesBefore)` tells what happened. */
  function handoverForm(holder, shown) {
    const to = select([], { placeholder: 'Choose who takes the cases' });
    const reason = h('input', { type: 'text', maxlength: 1000, autocomplete: 'off' });
    const note = h('textarea', { rows: 3, maxlength: 2000 });
    const form = h(
      'form',
      { class: 'team-form', novalidate: true, 'aria-label': `Hand over ${holder.name}’s cases` },
      field('Intervener', to, {
        path: 'toIntervenerId strategy',
        hint: 'Best ranked gives each case to its first candidate; caseload caps hold, so a case with no room stays.',
      }),
      field('Reason', reason, { path: 'reason', hint: 'Recorded with each move, e.g. “left the program”.' }),
      field('Note', note, {
        path: 'note',
        hint: 'Optional: kept on each moved case as a handover note for its new holder. No names, handles or links.',
      }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Hand over')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const before = holding.get(holder.id) ?? orphans.get(holder.id) ?? [];
      let result = null;
      const ok = await submitting(
        form,
        async () => {
          const missing = [];
          if (!to.value) missing.push({ path: 'toIntervenerId', message: 'Choose who takes the cases, or “Best ranked for each case”.' });
          if (!reason.value.trim()) missing.push({ path: 'reason', message: 'This is needed.' });
          if (missing.length) throw refusal(missing);
          const body = {
            ...(to.value === RANKED ? { strategy: RANKED } : { toIntervenerId: to.value }),
            reason: reason.value.trim(),
            ...(note.value.trim() ? { note: note.value.trim() } : {}),
          };
          result = (await post(`/v1/staff/${holder.id}/handover`, body)).data;
        },
        { action: 'Hand over' },
      );
      if (!ok) return;
      to.value = '';
      reason.value = '';
      note.value = '';
      await shown(result, before);
    });
    return { form, refresh: () => refillSelect(to, receiverOptions(holder.id), 'Choose who takes the cases') };
  }

  /** The handover's answer in words: what moved where, and each case left behind, linked by id. */
  function handoverResult(holderName, res, before) {
    const caseNames = new Map(before.map((c) => [c.id, profileName(c.profile)]));
    const moved = res.moved.length;
    const skipped = res.skipped.length;
    if (!moved && !skipped) return [h('p', {}, `${holderName} held no active case: nothing moved.`)];
    const reasons = countBy(res.skipped.map((s) => skippedWords(s.code)));
    const why = reasons.length === 1 ? reasons[0][0] : reasons.map(([w, n]) => `${n} ${w}`).join(', ');
    return [
      h('p', { class: 'result-head' }, `${plural(moved, 'case')} moved${skipped ? `; ${skipped} skipped: ${why}` : ''}`),
      moved
        ? h(
            'p',
            { class: 'meta' },
            'Moved to ',
            countBy(res.moved.map((m) => nameOf(m.toIntervenerId)))
              .map(([name, n]) => `${name} (${n})`)
              .join(', '),
            '.',
          )
        : null,
      skipped
        ? h(
            'ul',
            { class: 'plain-list', 'aria-label': 'Skipped cases' },
            res.skipped.map((s) =>
              h('li', {}, h('a', { href: `#/case/${s.caseId}` }, caseNames.get(s.caseId) ?? 'A case'), `: ${skippedWords(s.code)}`),
            ),
          )
        : null,
      skipped
        ? h(
            'p',
            { class: 'meta' },
            `Skipped cases stay with ${holderName}: open one to assign it (an override needs a reason), or hand over again once someone has room.`,
          )
        : null,
    ];
  }

  // ---- Absences -------------------------------------------------------------------------------

  function absenceForm(person, card) {
    const from = h('input', { type: 'datetime-local' });
    const to = h('input', { type: 'datetime-local' });
    const cover = asLead ? select([], { placeholder: 'No cover' }) : null;
    const reason = h('input', { type: 'text', maxlength: 200, autocomplete: 'off' });
    const tries = attempts();
    let fromTouched = false;
    from.addEventListener('input', () => {
      fromTouched = true;
    });
    const resetFrom = () => {
      from.value = toLocalInput(new Date());
      fromTouched = false;
    };
    resetFrom();
    // "Now" stays now while From is untouched and no try is waiting to be retried.
    const tick = setInterval(() => {
      if (!fromTouched && !tries.pending) from.value = toLocalInput(new Date());
    }, 30_000);
    ctx.onLeave(() => clearInterval(tick));

    const mine = person.id === me.id;
    const form = h(
      'form',
      { class: 'team-form', novalidate: true, 'aria-label': mine ? 'Record an absence' : `Record an absence for ${person.name}` },
      h(
        'div',
        { class: 'grid-2' },
        field('From', from, { path: 'from', hint: 'Your local time; now unless you change it.' }),
        field('To', to, { path: 'to', hint: 'The absence ends at this moment.' }),
      ),
      cover
        ? field('Cover', cover, {
            path: 'coverId',
            hint: 'Works their active cases and gets their notifications until the absence ends. Without a cover, the leads get them.',
          })
        : null,
      field('Reason', reason, { path: 'reason', hint: 'Optional. “Leave” is enough: never health details.' }),
      formAlert(),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Record absence')),
      formStatus(),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      let replayed = false;
      let recorded = null;
      const ok = await submitting(
        form,
        async () => {
          const snapshot = JSON.stringify([from.value, fromTouched, to.value, cover?.value ?? '', reason.value]);
          const attempt = tries.take(snapshot, () => ({
            from: fromTouched ? fromLocalInput(from.value) : new Date().toISOString(),
            to: fromLocalInput(to.value),
            ...(cover?.value ? { coverId: cover.value } : {}),
            ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
          }));
          const res = await post(`/v1/staff/${person.id}/absences`, attempt.body, { 'idempotency-key': attempt.key }).catch((err) => {
            tries.failed(err);
            throw err;
          });
          replayed = res.replayed;
          recorded = res.data;
          tries.done();
        },
        { retrySafe: true, action: 'Record absence' },
      );
      if (!ok) return;
      resetFrom();
      to.value = '';
      reason.value = '';
      if (cover) cover.value = '';
      await card.reload();
      quietAll();
      const whom = recorded.coverId ? `${nameOf(recorded.coverId)} covers` : asLead ? 'no cover: the leads get the notifications' : null;
      said(
        form,
        `${replayed ? 'Absence recorded (the first try had reached the server: it is recorded once)' : 'Absence recorded'}${whom ? `; ${whom}` : ''}.`,
      );
    });
    return {
      form,
      refresh: () => {
        if (cover)
          refillSelect(
            cover,
            people.filter((p) => p.id !== person.id).map((p) => [p.id, `${p.name}${currentAbsence(p.id) ? ' (absent)' : ''}`]),
            'No cover',
          );
      },
    };
  }

  function absenceItem(person, a, card) {
    const started = Date.parse(a.from) <= Date.now();
    // An intervener may take back their own absence, but not one a lead set up with a cover.
    const endable = asLead || !a.coverId;
    const li = h(
      'li',
      { class: `absence${started ? ' absence-now' : ''}` },
      h(
        'p',
        { class: 'absence-when' },
        started ? [badge('now', 'warn'), ' until ', when(a.to)] : ['From ', when(a.from), ' to ', when(a.to)],
      ),
      h(
        'p',
        { class: 'meta' },
        a.coverId ? `Cover: ${nameOf(a.coverId)}` : 'No cover: the leads get the notifications',
        a.reason ? ` · Reason: ${a.reason}` : '',
      ),
    );
    if (!endable) {
      li.append(h('p', { class: 'meta' }, 'A lead set up this cover: ask a lead to end it.'));
      return li;
    }
    const label = started ? 'End' : 'Cancel';
    const button = h(
      'button',
      { type: 'button', class: 'secondary small' },
      label,
      hiddenText(` ${person.id === me.id ? 'my' : `${person.name}’s`} absence ${started ? 'now' : 'before it starts'}`),
    );
    li.append(formAlert(), h('div', { class: 'actions' }, button));
    button.addEventListener('click', async () => {
      const ok = await submitting(li, () => call('DELETE', `/v1/absences/${a.id}`));
      if (!ok) return;
      await card.reload();
      card.tell(
        started
          ? `Absence ended${a.coverId ? `: ${nameOf(a.coverId)} no longer works ${person.id === me.id ? 'your' : `${person.name}’s`} cases` : ''}.`
          : 'Absence cancelled.',
      );
    });
    return li;
  }

  // ---- one card per intervener ----------------------------------------------------------------

  function personCard(person) {
    const titleId = nextId('p');
    const title = h('h3', { id: titleId, class: 'card-title' }, person.name);
    const state = h('p', { class: 'badges' });
    const facts = h('p', { class: 'meta' });
    const result = h('div', { class: 'team-result', role: 'status', tabindex: '-1' });
    const absenceList = h('div');
    const card = {
      person,
      root: null,
      async reload() {
        await reloadAll();
      },
      tell(...content) {
        card.show(h('p', { class: 'result-head' }, ...content));
      },
      show(nodes) {
        quietAll();
        fill(result, nodes);
        keepFocus(result);
      },
      update,
    };
    const handover = asLead
      ? handoverForm(person, async (res, before) => {
          await card.reload();
          card.show(handoverResult(person.name, res, before));
        })
      : null;
    const handoverBox = handover ? h('details', { class: 'team-action' }, h('summary', {}, 'Hand over cases'), handover.form) : null;
    const record = absenceForm(person, card);
    // A lead opens it for the one they mean; on My absences it is what the page is for.
    const recordBox = asLead
      ? h('details', { class: 'team-action' }, h('summary', {}, 'Record an absence'), record.form)
      : h('div', { class: 'team-action' }, h('h2', {}, 'Record an absence'), record.form);
    const absencesId = nextId('al');
    card.root = h(
      asLead ? 'li' : 'div',
      { class: 'card team-card' },
      h(
        asLead ? 'article' : 'div',
        asLead ? { 'aria-labelledby': titleId } : {},
        asLead ? title : null,
        state,
        facts,
        result,
        handoverBox,
        h(
          'section',
          { 'aria-labelledby': absencesId },
          h(asLead ? 'h4' : 'h2', { id: absencesId }, asLead ? 'Absences' : 'Current and planned'),
          absenceList,
          recordBox,
        ),
        asLead ? supervisionSection(ctx, person) : null,
      ),
    );

    function update() {
      const p = people.find((x) => x.id === person.id) ?? person;
      card.person = p;
      title.textContent = p.name;
      const away = currentAbsence(p.id);
      const covering = [...absences]
        .filter(([id]) => id !== p.id)
        .map(([id]) => [id, currentAbsence(id)])
        .filter(([, a]) => a?.coverId === p.id);
      fill(
        state,
        away ? badge('Absent', 'warn') : badge('Present', 'ok'),
        asLead && full(p) ? badge('At capacity', 'danger-soft') : null,
        covering.length ? badge('Covering', 'plain') : null,
      );
      const held = holding.get(p.id)?.length ?? 0;
      const cap = capOf(p);
      fill(
        facts,
        away
          ? [
              asLead ? 'Absent until ' : 'You are absent until ',
              when(away.to),
              away.coverId ? `, covered by ${nameOf(away.coverId)}.` : ', no cover: the leads get the notifications.',
            ]
          : null,
        covering.map(([id, a], i) => [away || i > 0 ? h('br') : null, `Covering ${nameOf(id)} until `, when(a.to), '.']),
        asLead
          ? [
              away || covering.length ? h('br') : null,
              held ? `Holds ${plural(held, 'active case')}` : 'Holds no active case',
              cap !== null ? ` (cap ${cap}).` : '.',
            ]
          : null,
      );
      if (handover) {
        handover.refresh();
        handoverBox.hidden = held === 0;
      }
      record.refresh();
      const list = absences.get(p.id) ?? [];
      fill(
        absenceList,
        list.length
          ? h(
              'ul',
              { class: 'absences', 'aria-label': asLead ? `${p.name}’s absences` : 'My absences' },
              list.map((a) => absenceItem(p, a, card)),
            )
          : h('p', { class: 'empty' }, 'None now or planned.'),
      );
    }
    update();
    return card;
  }

  // ---- orphaned caseloads (leads) -------------------------------------------------------------

  function orphanGroup(holderId) {
    const holder = { id: holderId, name: nameOf(holderId) };
    const titleId = nextId('o');
    const list = h('ul', { class: 'plain-list' });
    const handover = handoverForm(holder, async (res, before) => {
      // Filled first: the section stays to show it when the last group goes.
      quietAll();
      fill(orphanResult, handoverResult(holder.name, res, before));
      await reloadAll();
      keepFocus(orphanResult);
    });
    const root = h(
      'article',
      { class: 'card team-card orphan-group', 'aria-labelledby': titleId },
      h('h3', { id: titleId, class: 'card-title' }, `${holder.name} (deactivated)`),
      list,
      h('details', { class: 'team-action', open: true }, h('summary', {}, 'Hand over these cases'), handover.form),
    );
    const update = () => {
      const cases = orphans.get(holderId) ?? [];
      fill(
        list,
        cases.map((c) =>
          h('li', {}, h('a', { href: `#/case/${c.id}` }, profileName(c.profile)), ` · risk ${c.riskLevel} · stage ${words(c.stage)}`),
        ),
      );
      handover.refresh();
    };
    update();
    return { root, update };
  }

  // ---- the page -------------------------------------------------------------------------------

  const cards = new Map();
  const groups = new Map();
  const teamList = asLead ? h('ul', { class: 'cards team-cards', 'aria-label': 'Interveners' }) : h('div');
  const orphanList = h('div', { class: 'cards team-cards' });
  const orphanResult = h('div', { class: 'team-result', role: 'status', tabindex: '-1' });
  const orphanSection = h(
    'section',
    { class: 'orphans', 'aria-labelledby': 'orphans-heading' },
    h('h2', { id: 'orphans-heading' }, 'Waiting for a handover'),
    h(
      'p',
      { class: 'lede' },
      'These active cases are held by someone who was deactivated. Hand them over; until then their notifications come to the leads.',
    ),
    orphanResult,
    orphanList,
  );

  /** One message at a time: what the page said last (results, forms' success lines) goes when something new is said. */
  function quietAll() {
    orphanResult.replaceChildren();
    for (const card of cards.values()) {
      for (const line of card.root.querySelectorAll('.team-result, .form-status')) line.replaceChildren();
    }
  }

  /** Draws `ids` into `container` from `store` (building what is new), touching the DOM only when the list changed. */
  function place(container, store, ids, make) {
    for (const id of [...store.keys()]) if (!ids.includes(id)) store.delete(id);
    for (const id of ids) {
      if (store.has(id)) store.get(id).update();
      else store.set(id, make(id));
    }
    const roots = ids.map((id) => store.get(id).root);
    const same = container.children.length === roots.length && roots.every((r, i) => container.children[i] === r);
    if (!same) fill(container, roots);
  }

  function draw() {
    place(
      teamList,
      cards,
      people.map((p) => p.id),
      (id) => personCard(people.find((p) => p.id === id)),
    );
    if (asLead) {
      const holders = [...orphans.keys()].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
      place(orphanList, groups, holders, orphanGroup);
      orphanSection.hidden = holders.length === 0 && !orphanResult.textContent;
    }
  }

  async function reloadAll() {
    await load();
    draw();
  }

  await reloadAll();
  if (!asLead) {
    return h(
      'section',
      { class: 'view team' },
      h('h1', {}, 'My absences'),
      h(
        'p',
        { class: 'lede' },
        'Record when you will be away: you are offered no new cases meanwhile. A lead can name a colleague to cover your cases.',
      ),
      teamList,
    );
  }
  return h(
    'section',
    { class: 'view team' },
    h('h1', {}, 'Team'),
    h(
      'p',
      { class: 'lede' },
      'Who is in and who is away, who covers for whom, and handing a caseload over when someone leaves or is away for long.',
    ),
    orphanSection,
    h(
      'section',
      { 'aria-labelledby': 'team-heading' },
      h('h2', { id: 'team-heading' }, 'Interveners'),
      people.length ? null : h('p', { class: 'empty' }, 'No active intervener in your program.'),
      teamList,
    ),
  );
}
