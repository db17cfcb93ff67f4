import { configDefaults, defineConfig } from 'vitest/config';

// What any MCP client sees of Governor's servers (test/mcp-conformance): output schemas and structured
// content, the MCP Inspector CLI over stdio, and the MCP conformance suite over Streamable HTTP against
// its committed baseline. Its own run after the main suite (`npm run test:mcp-conformance`; .ci/run
// calls it): each check starts every server as its own process.
export default defineConfig({
  test: {
    include: ['test/mcp-conformance/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    minWorkers: 1,
  },
});
