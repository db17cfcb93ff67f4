// The gateway's read (here in the composition root's folder: it reuses the Billing MCP server's cluster client, which no lower layer may import) of who shares a deployment's nodes, for the Arbitrator's preemption and
// pre-execution check (src/governance/arbitration.ts): the nodes running the deployment's pods, their
// allocatable CPU and use, and every tenant on them with the CPU it requests and uses. The same
// cluster reads and arithmetic as the Billing MCP server's get_node_tenancy, unrestricted (the
// gateway judges for every tenant) and without pod names. It only reads; failures are coded as the
// Billing client codes them (retryable when the cluster may recover).
import type { KubeConfig } from '@kubernetes/client-node';
import { BillingClient } from '../../mcp-servers/billing/billing-client.ts';
import { nodeTenancy, UNASSIGNED_TENANT } from '../../mcp-servers/billing/tenancy.ts';
import type { NodeShare, TenancyFacts } from '../governance/arbitration.ts';
import { tenantOfNamespace, type Tenants } from '../governance/tenants.ts';
import { TENANT_LABEL } from '../cluster/watch-targets.ts';

export class KubeTenancyFacts implements TenancyFacts {
  private readonly kube: BillingClient;

  constructor(
    kube: KubeConfig,
    private readonly tenants: Tenants,
  ) {
    this.kube = new BillingClient(kube);
  }

  async tenancy(namespace: string, deployment: string): Promise<NodeShare[]> {
    const own = await this.kube.pods({ namespace });
    const nodeNames = [...new Set(own.filter((p) => p.deployment === deployment && p.node).map((p) => p.node!))].sort();
    if (nodeNames.length === 0) return [];
    const [labels, nodes, onNodes] = await Promise.all([
      this.kube.namespaceLabels(),
      this.kube.nodes(nodeNames),
      Promise.all(nodeNames.map((node) => this.kube.pods({ node }))),
    ]);
    const tenantOf = (ns: string) => labels.get(ns)?.[TENANT_LABEL] ?? tenantOfNamespace(this.tenants, ns)?.[0] ?? UNASSIGNED_TENANT;
    return nodeTenancy({ namespace, deployment, nodes, pods: onNodes.flat(), tenantOf, visible: () => true }).map((n) => ({
      node: n.node,
      allocatable_cpu_millicores: n.allocatable_cpu_millicores,
      cpu_usage_millicores: n.cpu_usage_millicores,
      tenants: n.tenants.map((t) => ({
        tenant: t.tenant,
        cpu_request_millicores: t.cpu_request_millicores,
        cpu_usage_millicores: t.cpu_usage_millicores,
        workloads: t.workloads,
      })),
    }));
  }
}
