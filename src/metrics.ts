import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUE_NAMES } from './queue/jobs.js';
import type { QueueSystem } from './queue/system.js';

/** One registry per process; /metrics serves it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'overture_' });

export const httpDuration = new Histogram({
  name: 'overture_http_request_duration_seconds',
  help: 'HTTP request duration by route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
export const httpErrors = new Counter({
  name: 'overture_http_server_errors_total',
  help: 'Responses with status >= 500',
  labelNames: ['route'],
  registers: [registry],
});
export const jobDuration = new Histogram({
  name: 'overture_job_duration_seconds',
  help: 'Job processing time by queue and job name',
  labelNames: ['queue', 'job'],
  buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  registers: [registry],
});
export const jobFailures = new Counter({
  name: 'overture_job_failures_total',
  help: 'Failed job attempts by queue and job name',
  labelNames: ['queue', 'job'],
  registers: [registry],
});

/** Statements sent to PostgreSQL (each one round trip): `npm run bench` divides it by requests served. */
export const dbQueries = new Counter({
  name: 'overture_db_queries_total',
  help: 'Statements sent to PostgreSQL by this process (one round trip each)',
  registers: [registry],
});

let depthSource: QueueSystem | undefined;
new Gauge({
  name: 'overture_queue_depth',
  help: 'Jobs per queue and state (read on scrape)',
  labelNames: ['queue', 'state'],
  registers: [registry],
  async collect() {
    if (!depthSource) return;
    for (const name of QUEUE_NAMES) {
      try {
        const counts = await depthSource.queue(name).getJobCounts('waiting', 'delayed', 'active', 'failed');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, n);
      } catch {
        // Queue backend down: readyz says so; the scrape still answers.
      }
    }
  },
});

export function watchQueueDepth(queues: QueueSystem) {
  depthSource = queues;
}
