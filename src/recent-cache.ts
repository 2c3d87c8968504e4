/**
 * Values read at most `ttlMs` ago in this process, for reads a burst of requests repeats (who a
 * token belongs to, a program's settings for a view). `forget()`, called by every change written
 * in this process, drops them all at once; a value that was being read while a change was written
 * is returned but not remembered (it may be from before the change). Another process's change is
 * seen within `ttlMs`. Past `max` entries the cache starts again from empty, so it never grows
 * without bound. Undefined (not found, refused) is never remembered.
 */
export class RecentCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  async remember(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const seen = this.generation;
    const value = await load();
    if (value !== undefined && seen === this.generation) {
      if (this.entries.size >= this.max) this.entries.clear();
      this.entries.set(key, { value, until: now + this.ttlMs });
    }
    return value;
  }

  forget(): void {
    this.entries.clear();
    this.generation++;
  }
}
