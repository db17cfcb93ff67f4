// Test fixture: the config cluster (test/fixtures/scenarios/config-cluster.json: services that read
// config maps, and a bad push's effect) served as a Kubernetes API, with the ConfigMap MCP server in
// front of it. Tenant acme (acme-prod) runs `web`, which takes all of web-config through envFrom and
// slows to three times its service time when its cache is switched off (cache.enabled=false), and
// `api`, which names only pool.size through env valueFrom; `batch` reads no config. Tenant globex
// (globex-prod) has a config map of its own.
import type { KubeConfig } from '@kubernetes/client-node';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant, type GrantKeys } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { loadScenarioSpec } from '../../src/twin/scenarios/index.ts';
import { startConfigMapMcpHttp, type ConfigMapMcpHttp } from '../../mcp-servers/configmap/http.ts';
import { buildFixture, fixturePath } from '../fixtures/scenario.ts';

export const START = Date.parse('2026-11-24T10:00:00Z');
export const NS = 'acme-prod';
export const OTHER_NS = 'globex-prod';
export const CONFIGURER_TOKEN = 'configurer-token-0123456789';
export const GLOBEX_TOKEN = 'globex-token-0123456789';
/** web-config's data as the fixture declares it: what a rollback must bring back. */
export const GOOD_DATA: Readonly<Record<string, string>> = loadScenarioSpec(fixturePath('config-cluster'))
  .tenants.flatMap((t) => t.namespaces)
  .find((n) => n.name === NS)!
  .config_maps.find((c) => c.name === 'web-config')!.data;

export interface ConfigTwin {
  clock: VirtualClock;
  twin: ClusterTwin;
  keys: GrantKeys;
  shared: MemorySharedState;
  kube: KubeConfig;
  mcp: ConfigMapMcpHttp;
  configurer: McpToolClient;
  /** A grant as the gateway would issue it for the configurer; `over` changes any field. */
  grant(args: Record<string, unknown>, over?: Partial<Parameters<typeof issueGrant>[1]>): ReturnType<typeof issueGrant>;
  /** Waits (real time) until the server's history holds `n` versions of a map. */
  historyHas(name: string, n: number, namespace?: string): Promise<void>;
  close(): Promise<void>;
}


export async function startConfigTwin(): Promise<ConfigTwin> {
  const clock = new VirtualClock(START);
  const { twin } = buildFixture('config-cluster', clock);
  twin.start(1_000);

  const apiServer = await startKubeApiServer(twin, { port: 0 });
  const kube = loadKubeconfig(apiServer.kubeconfig());
  const keys = generateGrantKeys('k');
  const shared = new MemorySharedState();
  const mcp = await startConfigMapMcpHttp({
    kube,
    sharedState: shared,
    clock,
    grantPublicKeys: new Map([['k', keys.publicKey]]),
    tokens: new Map([
      [CONFIGURER_TOKEN, { agent: 'configurer', namespaces: [NS] }],
      [GLOBEX_TOKEN, { agent: 'configurer', namespaces: [OTHER_NS] }],
    ]),
    watchRetryMs: 50,
  });
  const configurer = await connectMcp({ url: mcp.url, token: CONFIGURER_TOKEN, name: 'configurer' });

  return {
    clock,
    twin,
    keys,
    shared,
    kube,
    mcp,
    configurer,
    grant: (args, over = {}) =>
      issueGrant(keys, {
        proposal_id: 'proposal-1',
        agent: 'configurer',
        tenant: 'acme',
        namespace: NS,
        server: 'configmap',
        tool: 'update_config',
        args,
        basis: 'approval',
        nowMs: clock.now(),
        ttlMs: 15 * 60_000,
        ...over,
      }),
    async historyHas(name, n, namespace = NS) {
      const deadline = Date.now() + 5_000;
      while (mcp.history.history(namespace, name).length < n) {
        if (Date.now() > deadline) throw new Error(`history of ${namespace}/${name} never reached ${n} versions`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await configurer.close();
      await mcp.close();
      await shared.close();
      twin.stop();
      await apiServer.close();
    },
  };
}
