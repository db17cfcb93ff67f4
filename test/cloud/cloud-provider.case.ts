// The CloudProvider contract (src/cloud/cloud-provider.ts), one suite run against every
// implementation: the twin's node pools and the in-memory provider. Each factory gives a provider
// whose group `apps` has 2 nodes, and a way to put a pod on a node.
import { describe, expect, it } from 'vitest';
import type { CloudProvider } from '../../src/cloud/cloud-provider.ts';

export interface ProviderCase {
  make(): { provider: CloudProvider; occupy(node: string): void; settle(): Promise<void> };
}

export function cloudProviderContract(name: string, c: ProviderCase): void {
  describe(`CloudProvider contract: ${name}`, () => {
    it('lists only the groups asked for that it knows, with their nodes', async () => {
      const { provider } = c.make();
      const groups = await provider.listNodeGroups(['apps', 'nonexistent']);
      expect(groups.map((g) => g.name)).toEqual(['apps']);
      expect(groups[0]!.current).toBe(2);
      expect(groups[0]!.nodes.map((n) => n.name)).toEqual(['apps-01', 'apps-02']);
    });

    it('scales out with nodes named after the group, and back in by removing empty ones, newest first', async () => {
      const { provider, settle } = c.make();
      expect(await provider.scaleNodeGroup('apps', 4)).toEqual({ name: 'apps', from: 2, to: 4, added: ['apps-03', 'apps-04'], removed: [] });
      await settle();
      expect((await provider.listNodeGroups(['apps']))[0]!.current).toBe(4);
      expect(await provider.scaleNodeGroup('apps', 3)).toMatchObject({ from: 4, to: 3, removed: ['apps-04'] });
      expect((await provider.listNodeGroups(['apps']))[0]!.nodes.map((n) => n.name)).toEqual(['apps-01', 'apps-02', 'apps-03']);
    });

    it('refuses a scale-in that would terminate a node running pods, and changes nothing', async () => {
      const { provider, occupy } = c.make();
      occupy('apps-01');
      occupy('apps-02');
      await expect(provider.scaleNodeGroup('apps', 1)).rejects.toMatchObject({ code: 'conflict' });
      expect((await provider.listNodeGroups(['apps']))[0]!.current).toBe(2);
    });

    it('refuses a group it does not know', async () => {
      const { provider } = c.make();
      await expect(provider.scaleNodeGroup('nonexistent', 3)).rejects.toMatchObject({ code: 'not_found' });
    });
  });
}
