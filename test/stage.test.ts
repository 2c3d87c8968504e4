import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withLogged } from '../src/domain/touchpoints/service.js';
import { deriveStage, foldStage, foldsAfter, type TouchpointFact } from '../src/domain/touchpoints/stage.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
const tp = (direction: 'outbound' | 'inbound', minute: number, holderId = 'a'): TouchpointFact => ({
  direction,
  occurredAt: at(minute),
  holderId,
  approaches: direction === 'outbound' ? ['empathetic'] : null,
  costCents: direction === 'outbound' ? 100 : null,
});
const rules = { minMessages: 5, minInbound: 2 };

describe('deriveStage', () => {
  it('none without an outbound message; inbound before contact does not count as a response', () => {
    expect(deriveStage([], rules).stage).toBe('none');
    expect(deriveStage([tp('inbound', 1)], rules)).toMatchObject({ stage: 'none', respondedAt: null, inboundCount: 1 });
  });

  it('contacted → responded → sustained, credited to the holder at each moment', () => {
    const f = deriveStage(
      [tp('outbound', 1, 'a'), tp('inbound', 2, 'a'), tp('outbound', 3, 'b'), tp('outbound', 4, 'b'), tp('inbound', 5, 'b')],
      rules,
    );
    expect(f).toMatchObject({
      stage: 'sustained',
      contactedAt: at(1),
      contactedBy: 'a',
      respondedAt: at(2),
      respondedBy: 'a',
      sustainedAt: at(5),
      sustainedBy: 'b',
      firstOutboundApproaches: ['empathetic'],
      touchpointCount: 5,
      inboundCount: 2,
      outboundCostCents: 300,
      lastTouchpointDirection: 'inbound',
    });
  });

  it('five outbound messages alone are not sustained engagement', () => {
    expect(
      deriveStage(
        [1, 2, 3, 4, 5, 6].map((m) => tp('outbound', m)),
        rules,
      ).stage,
    ).toBe('contacted');
  });

  it('gives the same answer whatever order touchpoints are logged in', () => {
    const events = fc.array(fc.record({ inbound: fc.boolean(), minute: fc.integer({ min: 0, max: 10_000 }) }), { maxLength: 30 });
    fc.assert(
      fc.property(events, fc.func(fc.integer()), (evs, shuffleKey) => {
        const unique = [...new Map(evs.map((e) => [e.minute, e])).values()];
        const list = unique.map((e) => tp(e.inbound ? 'inbound' : 'outbound', e.minute));
        const shuffled = [...list].sort((a, b) => shuffleKey(a.occurredAt.getTime()) - shuffleKey(b.occurredAt.getTime()));
        expect(deriveStage(shuffled, rules)).toEqual(deriveStage(list, rules));
      }),
      { numRuns: 300 },
    );
  });
});

describe('withLogged', () => {
  it('puts a touchpoint where touchpointHistory would read it back: by occurredAt, then id', () => {
    const row = fc.record({ minute: fc.integer({ min: 0, max: 20 }), id: fc.uuid() });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => r.id, maxLength: 25 }), (rows) => {
        const facts = rows.map((r) => ({ ...tp(r.minute % 2 ? 'inbound' : 'outbound', r.minute), id: r.id }));
        const order = (a: (typeof facts)[number], b: (typeof facts)[number]) =>
          a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
        const sorted = [...facts].sort(order);
        for (let i = 0; i < facts.length; i++) {
          const rest = sorted.filter((f) => f !== facts[i]);
          expect(withLogged(rest, facts[i]!)).toEqual(sorted);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('foldsAfter', () => {
  const stored = (over: Partial<Parameters<typeof foldsAfter>[0]> = {}) => ({
    touchpointCount: 3,
    lastTouchpointAt: at(10),
    lastTouchpointId: '01900000-0000-7000-8000-000000000005',
    stageRules: '5:2',
    stageVersion: 7,
    version: 7,
    ...over,
  });
  it('folds after the last touchpoint, by time then id, and only into facts nothing else has touched', () => {
    const id = (n: number) => `01900000-0000-7000-8000-00000000000${n}`;
    expect(foldsAfter(stored(), { id: id(1), occurredAt: at(11) })).toBe(true);
    expect(foldsAfter(stored(), { id: id(9), occurredAt: at(9) })).toBe(false); // logged late
    expect(foldsAfter(stored(), { id: id(6), occurredAt: at(10) })).toBe(true); // same instant, later id
    expect(foldsAfter(stored(), { id: id(4), occurredAt: at(10) })).toBe(false); // same instant, earlier id
    expect(foldsAfter(stored({ lastTouchpointId: null }), { id: id(6), occurredAt: at(10) })).toBe(false);
    expect(foldsAfter(stored({ version: 8 }), { id: id(1), occurredAt: at(11) })).toBe(false); // updated since
    expect(foldsAfter(stored({ stageVersion: null }), { id: id(1), occurredAt: at(11) })).toBe(false);
    expect(foldsAfter(stored({ stageRules: null }), { id: id(1), occurredAt: at(11) })).toBe(false); // before migration 0017
    expect(foldsAfter(stored({ touchpointCount: 0, stageRules: null, lastTouchpointAt: null }), { id: id(1), occurredAt: at(1) })).toBe(
      true,
    );
  });

  it('whenever it folds, folding gives what deriving the whole history again gives', () => {
    const row = fc.record({
      minute: fc.integer({ min: 0, max: 6 }),
      id: fc.uuid(),
      inbound: fc.boolean(),
      holder: fc.constantFrom('a', 'b'),
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => r.id, minLength: 1, maxLength: 20 }), row, (rows, next) => {
        fc.pre(!rows.some((r) => r.id === next.id));
        const fact = (r: typeof next) => ({ ...tp(r.inbound ? 'inbound' : 'outbound', r.minute, r.holder), id: r.id });
        const history = rows
          .map(fact)
          .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const facts = deriveStage(history, rules);
        const t = fact(next);
        const folds = foldsAfter({ ...facts, stageVersion: 1, version: 1 }, t);
        const derived = deriveStage(withLogged(history, t), rules);
        if (folds) expect(foldStage(facts, t, rules)).toEqual(derived);
        // And it folds exactly when the touchpoint sorts last.
        expect(folds).toBe(withLogged(history, t).at(-1) === t);
      }),
      { numRuns: 500 },
    );
  });
});
