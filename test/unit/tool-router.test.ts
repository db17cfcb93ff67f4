// The agents' tool router: each tool goes to the one session it was given for, and a tool no
// session serves fails loudly instead of reaching a default server.
import { describe, expect, it } from 'vitest';
import { routeTools } from '../../agents/runtime/tool-router.ts';
import { BILLING_TOOLS } from '../../agents/arbitrator/billing-views.ts';
import type { ToolClient, ToolOutcome } from '../../agents/runtime/tool-client.ts';

class Named implements ToolClient {
  calls: string[] = [];
  closed = false;
  constructor(private readonly name: string) {}
  async callTool<T>(tool: string): Promise<ToolOutcome<T>> {
    this.calls.push(tool);
    return { ok: true, data: { server: this.name } as T, raw: {} };
  }
  async close() {
    this.closed = true;
  }
}

describe('routeTools', () => {
  it('sends billing tools to billing and get_pod_metrics to kubernetes, and closes both', async () => {
    const billing = new Named('billing');
    const kubernetes = new Named('kubernetes');
    const tools = routeTools([{ client: billing, tools: BILLING_TOOLS }, { client: kubernetes, tools: ['get_pod_metrics'] }]);
    expect(await tools.callTool('throttle_tenant', {})).toMatchObject({ data: { server: 'billing' } });
    expect(await tools.callTool('get_pod_metrics', {})).toMatchObject({ data: { server: 'kubernetes' } });
    expect(await tools.callTool('scale_deployment', {})).toMatchObject({ ok: false, code: 'unknown_tool', message: expect.stringContaining("serves tool 'scale_deployment'") });
    expect(billing.calls).toEqual(['throttle_tenant']);
    expect(kubernetes.calls).toEqual(['get_pod_metrics']);
    await tools.close();
    expect(billing.closed && kubernetes.closed).toBe(true);
  });

  it('refuses a tool routed twice', () => {
    expect(() => routeTools([{ client: new Named('a'), tools: ['x'] }, { client: new Named('b'), tools: ['x'] }])).toThrow(/routed to two/);
  });
});
