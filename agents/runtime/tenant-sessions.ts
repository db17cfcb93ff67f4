// One MCP session per tenant for an agent whose work is one tenant's at a time (issue 12: "each agent
// session is bound to the tenants it serves, one session per tenant where the scope differs"). Each
// session's bearer token binds it to that tenant's namespaces alone, so the server — not this code —
// refuses a call that reaches into another tenant. This client only picks the session:
//   - `forTenant(t)`: the session of tenant t, for work that knows its tenant (an executor acting on a
//     grant, the verifier judging a proposal): a grant whose arguments name another tenant's
//     namespace is then refused by the server, whatever the grant says;
//   - `callTool`: the session of the tenant owning the call's `namespace` (or its `tenant`). A call
//     naming neither, or a namespace no tenant owns, is refused as a result, never sent to a default.
import type { ToolClient, ToolOutcome } from './tool-client.ts';

export interface TenantTools extends ToolClient {
  forTenant(tenant: string): ToolClient;
}

export function isTenantTools(t: ToolClient): t is TenantTools {
  return typeof (t as Partial<TenantTools>).forTenant === 'function';
}

/** The session of the work's tenant when the client has one per tenant; the client itself otherwise. */
export function toolsOfTenant(t: ToolClient, tenant: string): ToolClient {
  return isTenantTools(t) ? t.forTenant(tenant) : t;
}

const refused = <T>(message: string, request: unknown): ToolOutcome<T> => ({ ok: false, code: 'tenant_forbidden', message, raw: { request } });

export function tenantSessions(sessions: ReadonlyMap<string, ToolClient>, namespacesOf: (tenant: string) => readonly string[]): TenantTools {
  const tenantOfNamespace = (ns: string): string | undefined => [...sessions.keys()].find((t) => namespacesOf(t).includes(ns));
  const none = (tenant: string): ToolClient => ({
    callTool: async <T>(tool: string, args: Record<string, unknown>) => refused<T>(`this agent has no session bound to tenant '${tenant}'`, { tool, args }),
    close: async () => {},
  });
  return {
    forTenant: (tenant) => sessions.get(tenant) ?? none(tenant),
    async callTool<T>(tool: string, args: Record<string, unknown>): Promise<ToolOutcome<T>> {
      const ns = typeof args['namespace'] === 'string' ? args['namespace'] : undefined;
      const named = typeof args['tenant'] === 'string' ? args['tenant'] : undefined;
      const tenant = ns !== undefined ? tenantOfNamespace(ns) : named;
      if (ns !== undefined && named !== undefined && tenant !== named) {
        return refused(`namespace '${ns}' is not tenant '${named}''s`, { tool, args });
      }
      if (tenant === undefined) {
        return refused(
          ns !== undefined ? `no session of this agent is bound to namespace '${ns}'` : `${tool} names no namespace or tenant: call it through the session of the work's tenant`,
          { tool, args },
        );
      }
      const session = sessions.get(tenant);
      if (!session) return refused(`this agent has no session bound to tenant '${tenant}'`, { tool, args });
      return session.callTool<T>(tool, args);
    },
    async close(): Promise<void> {
      await Promise.allSettled([...sessions.values()].map((s) => s.close()));
    },
  };
}
