// Test fixture: the flag cluster (test/fixtures/scenarios/flag-cluster.json) served as a Kubernetes
// API, with the Feature Flag MCP server in front of it. Tenant acme (acme-prod) runs `orders`, which
// reads the flagd file in orders-flags and spends 300 ms more per request while dynamic-pricing
// serves true, and `web`, which reads no flags; broken-flags holds a malformed flag file. Tenant
// globex (globex-prod) has a flag file of its own.
import type { KubeConfig } from '@kubernetes/client-node';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant, type GrantKeys } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { flipFlag } from '../../src/twin/scenarios/config-effects.ts';
import { startFeatureFlagMcpHttp, type FeatureFlagMcpHttp } from '../../mcp-servers/feature-flags/http.ts';
import { FLAGS_KEY } from '../../mcp-servers/feature-flags/flag-file.ts';
import { buildFixture } from '../fixtures/scenario.ts';

export const START = Date.parse('2026-11-24T10:00:00Z');
export const NS = 'acme-prod';
export const OTHER_NS = 'globex-prod';
export const FLAGS_TOKEN = 'configurer-flags-token-0123456789';
export const GLOBEX_TOKEN = 'globex-flags-token-0123456789';

export interface FlagTwin {
  clock: VirtualClock;
  twin: ClusterTwin;
  keys: GrantKeys;
  shared: MemorySharedState;
  kube: KubeConfig;
  mcp: FeatureFlagMcpHttp;
  flags: McpToolClient;
  /** A grant as the gateway would issue it for the configurer; `over` changes any field. */
  grant(tool: string, args: Record<string, unknown>, over?: Partial<Parameters<typeof issueGrant>[1]>): ReturnType<typeof issueGrant>;
  /** The flag file of a map as the cluster holds it, parsed. */
  file(name?: string, namespace?: string): { flags: Record<string, { state: string; defaultVariant: string; variants: Record<string, unknown> }> };
  /** Flips a flag as a person would (kubectl), and waits until the server's history has seen it. */
  flip(flag: string, setting: { state?: string; default_variant?: string }, name?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFlagTwin(): Promise<FlagTwin> {
  const clock = new VirtualClock(START);
  const { twin } = buildFixture('flag-cluster', clock);
  twin.start(1_000);

  const apiServer = await startKubeApiServer(twin, { port: 0 });
  const kube = loadKubeconfig(apiServer.kubeconfig());
  const keys = generateGrantKeys('k');
  const shared = new MemorySharedState();
  const mcp = await startFeatureFlagMcpHttp({
    kube,
    sharedState: shared,
    clock,
    grantPublicKeys: new Map([['k', keys.publicKey]]),
    tokens: new Map([
      [FLAGS_TOKEN, { agent: 'configurer', namespaces: [NS] }],
      [GLOBEX_TOKEN, { agent: 'configurer', namespaces: [OTHER_NS] }],
    ]),
    watchRetryMs: 50,
  });
  const flags = await connectMcp({ url: mcp.url, token: FLAGS_TOKEN, name: 'configurer' });
  const file = (name = 'orders-flags', namespace = NS) => JSON.parse(twin.getConfigMap(namespace, name)!.data![FLAGS_KEY]!);

  return {
    clock,
    twin,
    keys,
    shared,
    kube,
    mcp,
    flags,
    file,
    grant: (tool, args, over = {}) =>
      issueGrant(keys, {
        proposal_id: 'proposal-1',
        agent: 'configurer',
        tenant: 'acme',
        namespace: NS,
        server: 'feature-flags',
        tool,
        args,
        basis: 'approval',
        nowMs: clock.now(),
        ttlMs: 15 * 60_000,
        ...over,
      }),
    async flip(flag, setting, name = 'orders-flags') {
      const n = mcp.history.history(NS, name).length;
      const cm = twin.getConfigMap(NS, name)!;
      twin.replaceConfigMap(NS, name, { ...cm, data: { ...cm.data, [FLAGS_KEY]: flipFlag(cm.data![FLAGS_KEY]!, flag, setting.state, setting.default_variant) } });
      const deadline = Date.now() + 5_000;
      while (mcp.history.history(NS, name).length < n + 1) {
        if (Date.now() > deadline) throw new Error(`history of ${NS}/${name} never saw the flip`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await flags.close();
      await mcp.close();
      await shared.close();
      twin.stop();
      await apiServer.close();
    },
  };
}
