import pg from 'pg';
import { fmt } from './load.js';

/**
 * Samples pg_stat_activity for one database while a load runs: how many of the service's
 * sessions are, on average, running, waiting on a lock, on WAL/IO, or idle in a transaction
 * (waiting for the Node process). A cheap answer to "what is the service waiting for?".
 */
export class WaitSampler {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private samples = 0;
  private counts = new Map<string, number>();
  private busy = false;

  constructor(
    private readonly url: string,
    private readonly everyMs = 100,
  ) {}

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.url, application_name: 'overture-bench-sampler' });
    this.client.on('error', () => {});
    await this.client.connect();
    this.samples = 0;
    this.counts.clear();
    this.timer = setInterval(() => void this.tick(), this.everyMs);
  }

  private async tick() {
    if (this.busy || !this.client) return;
    this.busy = true;
    try {
      const { rows } = await this.client.query<{ w: string; n: number }>(
        `select case when application_name like 'overture-queue%' then 'bullmq ' else '' end ||
                case when state = 'active' and wait_event_type is null then 'running'
                     when state = 'active' then wait_event_type || ':' || wait_event
                     else state || coalesce(' (' || wait_event || ')', '') end as w, count(*)::int as n
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'
            and application_name <> 'overture-bench-sampler'
          group by 1`,
      );
      this.samples++;
      for (const r of rows) this.counts.set(r.w, (this.counts.get(r.w) ?? 0) + r.n);
    } catch {
      // A missed sample changes nothing.
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<Record<string, number>> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    await this.client?.end().catch(() => {});
    this.client = undefined;
    return this.averages();
  }

  /** Mean number of sessions in each state per sample, largest first. */
  averages(): Record<string, number> {
    const out: [string, number][] = [...this.counts].map(([k, v]) => [k, v / Math.max(1, this.samples)]);
    out.sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(out.map(([k, v]) => [k, Math.round(v * 100) / 100]));
  }
}

export function describeWaits(avg: Record<string, number>, top = 4): string {
  const entries = Object.entries(avg).slice(0, top);
  if (entries.length === 0) return 'no busy sessions seen';
  return entries.map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ');
}
