import { defineConfig } from 'vitest/config';

// The drills (test/drills): the seed incident with the processes apart, one fault each (kill -9 of an
// agent, the gateway, the executor; a Redis restart; PostgreSQL down 60 s; the Kubernetes API
// stalled), on the real Redis and PostgreSQL. Minutes each, in real time: their own run
// (`npm run test:drills`, called by .ci/run), one at a time, never picked up by `npm test`.
export default defineConfig({
  test: {
    include: ['test/drills/**/*.drill.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    minWorkers: 1,
  },
});
