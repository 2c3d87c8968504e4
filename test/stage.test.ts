import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withLogged } from '../src/domain/touchpoints/service.js';
import { deriveStage, type TouchpointFact } from '../src/domain/touchpoints/stage.js';

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
