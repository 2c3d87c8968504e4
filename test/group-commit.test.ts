import { afterEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit } from '../src/group-commit.js';
import { RecentCache } from '../src/recent-cache.js';

/** A commit whose batches the test releases one at a time, recording what each held. */
function gated<T>() {
  const batches: T[][] = [];
  const gates: (() => void)[] = [];
  let failNext: Error | undefined;
  const commit = (items: T[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push([...items]);
      const fail = failNext;
      failNext = undefined;
      gates.push(() => (fail ? reject(fail) : resolve(items.map((i) => `done:${String(i)}`))));
    });
  const release = async () => {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, commit, release, failNext: (e: Error) => (failNext = e) };
}

describe('GroupCommit', () => {
  it('commits a lone item at once, on its own', async () => {
    const g = gated<number>();
    const group = new GroupCommit(g.commit, { maxBatch: 10 });
    const p = group.submit(1);
    expect(g.batches).toEqual([[1]]);
    await g.release();
    await expect(p).resolves.toBe('done:1');
  });

  it('gathers what arrives while a batch is in flight into the next, each caller getting its own answer', async () => {
    const g = gated<number>();
    const group = new GroupCommit(g.commit, { maxBatch: 10 });
    const first = group.submit(1);
    const rest = [2, 3, 4].map((n) => group.submit(n));
    expect(g.batches).toEqual([[1]]);
    await g.release();
    expect(g.batches).toEqual([[1], [2, 3, 4]]);
    await g.release();
    await expect(first).resolves.toBe('done:1');
    await expect(Promise.all(rest)).resolves.toEqual(['done:2', 'done:3', 'done:4']);
  });

  it('with inFlight 2, commits two batches at once and never a third; what waits goes in the next', async () => {
    const g = gated<number>();
    const group = new GroupCommit(g.commit, { maxBatch: 10, inFlight: 2 });
    const first = group.submit(1);
    const second = group.submit(2);
    const rest = [3, 4, 5].map((n) => group.submit(n));
    // 1 is in flight, so 2 starts a second batch; 3-5 wait for either to finish.
    expect(g.batches).toEqual([[1], [2]]);
    await g.release();
    expect(g.batches).toEqual([[1], [2], [3, 4, 5]]);
    await g.release();
    await g.release();
    await expect(Promise.all([first, second, ...rest])).resolves.toEqual(['done:1', 'done:2', 'done:3', 'done:4', 'done:5']);
    // Idle again: a lone item is committed at once.
    const later = group.submit(6);
    expect(g.batches.at(-1)).toEqual([6]);
    await g.release();
    await expect(later).resolves.toBe('done:6');
  });

  it('keeps a batch within maxBatch, counting each item by its size', async () => {
    const g = gated<number[]>();
    const group = new GroupCommit(g.commit, { maxBatch: 4, size: (events) => events.length });
    const all = [[0], [1, 1], [2, 2], [3], [4, 4, 4]].map((e) => group.submit(e));
    await g.release();
    // [0] alone; then [1,1] + [2,2] fill 4; then [3] + [4,4,4] (an item may end a batch past the limit).
    expect(g.batches).toEqual([
      [[0]],
      [
        [1, 1],
        [2, 2],
      ],
    ]);
    await g.release();
    expect(g.batches[2]).toEqual([[3], [4, 4, 4]]);
    await g.release();
    await Promise.all(all);
  });

  it('never puts two items with the same key in one batch', async () => {
    const g = gated<string>();
    const group = new GroupCommit(g.commit, { maxBatch: 10, key: (s) => s.slice(0, 1) });
    const all = ['a1', 'a2', 'b1', 'a3', 'c1'].map((s) => group.submit(s));
    await g.release();
    await g.release();
    await g.release();
    expect(g.batches).toEqual([['a1'], ['a2', 'b1', 'c1'], ['a3']]);
    await expect(Promise.all(all)).resolves.toHaveLength(5);
  });

  it('rejects every caller of a failed batch and goes on with the next', async () => {
    const g = gated<number>();
    const group = new GroupCommit(g.commit, { maxBatch: 10 });
    const first = group.submit(1);
    g.failNext(new Error('disk full'));
    const failing = [group.submit(2), group.submit(3)].map((p) => p.then(String, (e: Error) => `failed:${e.message}`));
    await g.release();
    const after = group.submit(4);
    await g.release();
    await expect(first).resolves.toBe('done:1');
    await expect(Promise.all(failing)).resolves.toEqual(['failed:disk full', 'failed:disk full']);
    await g.release();
    await expect(after).resolves.toBe('done:4');
    expect(g.batches).toEqual([[1], [2, 3], [4]]);
  });
});

describe('RecentCache', () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers from memory within its time to live and reads again after it', async () => {
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const cache = new RecentCache<string>(2_000, 10);
    let reads = 0;
    const load = async () => `v${++reads}`;
    expect(await cache.remember('k', load)).toBe('v1');
    now += 1_999;
    expect(await cache.remember('k', load)).toBe('v1');
    now += 1;
    expect(await cache.remember('k', load)).toBe('v2');
    expect(reads).toBe(2);
  });

  it('never remembers undefined (unknown, refused)', async () => {
    const cache = new RecentCache<string>(60_000, 10);
    let reads = 0;
    const load = async () => {
      reads++;
      return undefined;
    };
    expect(await cache.remember('k', load)).toBeUndefined();
    expect(await cache.remember('k', load)).toBeUndefined();
    expect(reads).toBe(2);
  });

  it('forgets everything on forget(), and does not remember a value read across one', async () => {
    const cache = new RecentCache<string>(60_000, 10);
    let reads = 0;
    await cache.remember('a', async () => `a${++reads}`);
    cache.forget();
    expect(await cache.remember('a', async () => `a${++reads}`)).toBe('a2');
    // A change is written while this read is in flight: its answer may predate the change.
    expect(
      await cache.remember('b', async () => {
        cache.forget();
        return `b${++reads}`;
      }),
    ).toBe('b3');
    expect(await cache.remember('b', async () => `b${++reads}`)).toBe('b4');
    expect(await cache.remember('b', async () => `b${++reads}`)).toBe('b4');
  });

  it('starts again from empty past its size limit', async () => {
    const cache = new RecentCache<string>(60_000, 2);
    let reads = 0;
    const load = (k: string) => async () => `${k}${++reads}`;
    await cache.remember('a', load('a'));
    await cache.remember('b', load('b'));
    await cache.remember('c', load('c')); // full: cleared, then c
    expect(await cache.remember('c', load('c'))).toBe('c3');
    expect(await cache.remember('a', load('a'))).toBe('a4');
  });
});
