import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // What MCP clients see (every server as its own process, the Inspector CLI, the conformance suite):
    // its own run, `npm run test:mcp-conformance` (vitest.mcp-conformance.config.ts). The control-plane
    // tests need a built kube-apiserver: their own run too (vitest.controlplane.config.ts). So do the
    // deployment tests that need helm or npm ci (vitest.deploy.config.ts), and the drills, minutes each
    // in real time (vitest.drills.config.ts).
    exclude: [...configDefaults.exclude, 'test/mcp-conformance/**', 'test/controlplane/**', 'test/deploy/**/*.deploy.test.ts', 'test/drills/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share one PostgreSQL and one Redis; each uses its own schema / key prefix,
    // so files may run in parallel, but keep it to the two cores this machine has.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
