import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // Most test time is spent waiting on PostgreSQL, Redis, Chromium and child processes, and each file has its own
    // database: one file more than there are cores keeps the cores busy (vitest's default is one fewer).
    maxWorkers: Math.min(4, availableParallelism() + 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
