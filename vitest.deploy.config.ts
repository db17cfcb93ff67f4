import { defineConfig } from 'vitest/config';

// The deployment tests (test/deploy/**/*.deploy.test.ts): the image's file set rebuilt and run (npm ci
// from the lockfile, no Docker daemon needed) and the Helm chart rendered for every phase and checked
// (needs `helm`, which .ci/run installs). Their own run (`npm run test:deploy`); `npm test` keeps the
// fast Dockerfile checks only. The chart against a real API server: test/controlplane/helm-chart.cp.test.ts.
export default defineConfig({
  test: {
    include: ['test/deploy/**/*.deploy.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    minWorkers: 1,
  },
});
