import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // e2e files start real servers on free ports; two workers match this machine's two cores.
    maxWorkers: 2,
  },
});
