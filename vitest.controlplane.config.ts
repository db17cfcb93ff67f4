import { defineConfig } from 'vitest/config';

// The control-plane tests (test/controlplane): the Kubernetes MCP server against a real
// kube-apiserver, etcd, controller-manager, scheduler and kwok, started once for the run by
// scripts/controlplane.sh (which builds them into a cache outside the clone the first time).
// Its own run (`npm run test:controlplane`), after the others; `npm test` never picks these up.
export default defineConfig({
  test: {
    include: ['test/controlplane/**/*.cp.test.ts'],
    globalSetup: ['test/controlplane/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // One control plane for the run: files share it (each in its own namespaces), one at a time.
    maxWorkers: 1,
    minWorkers: 1,
  },
});
