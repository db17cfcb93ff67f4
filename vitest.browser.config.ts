import { defineConfig } from 'vitest/config';

// The browser test (test/browser): the sandbox console in Debian's chromium. Its own run, after the
// unit, integration and end-to-end tests (`npm run test:browser`; .ci/run calls it).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.spec.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    minWorkers: 1,
  },
});
