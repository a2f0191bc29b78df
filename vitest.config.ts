import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // The e2e and infra suites start real servers and synthesize stacks: keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
  },
});
