import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/db/ids.js';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying its millisecond', () => {
    const at = Date.UTC(2026, 10, 26, 12, 0, 0, 123);
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(at);
  });

  it('is unique and sorts in creation order, also many within one millisecond and across the random pool refills', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(Date.UTC(2030, 0, 1)));
    expect(new Set(ids).size).toBe(ids.length);
    // The random tail differs too: the pooled randomness advances and refills (5000 × 10 bytes > 4 KiB).
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const later = uuidv7(Date.UTC(2030, 0, 2));
    expect(later > ids.at(-1)!).toBe(true);
  });
});
