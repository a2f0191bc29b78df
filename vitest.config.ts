import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Builds dist/handler.mjs once per run: the e2e suites run the bundle that is deployed, in child processes.
    globalSetup: ['test/e2e/support/global-setup.ts'],
    // The e2e and infra suites start real servers and synthesize stacks: keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
  },
});
