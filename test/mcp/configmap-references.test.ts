// The pure parts of the ConfigMap server: which config maps a pod template reads and how, which
// removals the non-destructive rule refuses, and the history's bookkeeping of versions.
import { describe, expect, it } from 'vitest';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { ConfigHistory, diffData } from '../../mcp-servers/configmap/config-history.ts';
import { configUsesOf, referencedKeysRemoved, referencesTo } from '../../mcp-servers/configmap/references.ts';

const template: V1PodTemplateSpec = {
  spec: {
    volumes: [
      { name: 'conf', configMap: { name: 'files', items: [{ key: 'app.yaml', path: 'app.yaml' }] } },
      { name: 'all', configMap: { name: 'whole' } },
      { name: 'proj', projected: { sources: [{ configMap: { name: 'proj-cm', items: [{ key: 'p', path: 'p' }] } }, { secret: { name: 's' } }] } },
    ],
    initContainers: [{ name: 'init', envFrom: [{ configMapRef: { name: 'init-env' } }] }],
    containers: [
      {
        name: 'app',
        env: [
          { name: 'POOL', valueFrom: { configMapKeyRef: { name: 'files', key: 'pool.size' } } },
          { name: 'PLAIN', value: 'x' },
          { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
    ],
  },
};

describe('configUsesOf', () => {
  it('finds volumes (plain and projected), envFrom of every container, and env keys, telling named keys from wholesale', () => {
    const uses = configUsesOf(template);
    expect([...uses.keys()].sort()).toEqual(['files', 'init-env', 'proj-cm', 'whole']);
    expect(uses.get('files')).toEqual({ wholesale: false, keys: ['app.yaml', 'pool.size'], via: ['volume:conf', 'env:POOL'] });
    expect(uses.get('whole')).toEqual({ wholesale: true, keys: [], via: ['volume:all'] });
    expect(uses.get('proj-cm')).toEqual({ wholesale: false, keys: ['p'], via: ['volume:proj'] });
    expect(uses.get('init-env')).toEqual({ wholesale: true, keys: [], via: ['envFrom'] });
    expect(configUsesOf(undefined).size).toBe(0);
  });

  it('refuses only removals of keys a template names', () => {
    const refs = referencesTo('files', [
      { metadata: { name: 'b' }, spec: { template } },
      { metadata: { name: 'a' }, spec: { template } },
      { metadata: { name: 'other' }, spec: { template: { spec: { containers: [{ name: 'c' }] } } } },
    ]);
    expect(refs.map((r) => r.deployment)).toEqual(['a', 'b']);
    const before = { 'app.yaml': '1', 'pool.size': '8', extra: 'y' };
    expect(referencedKeysRemoved(before, { 'app.yaml': '2', 'pool.size': '8' }, refs)).toEqual([]);
    expect(referencedKeysRemoved(before, { extra: 'y' }, refs)).toEqual([
      { key: 'app.yaml', deployments: ['a', 'b'] },
      { key: 'pool.size', deployments: ['a', 'b'] },
    ]);
  });
});

describe('ConfigHistory', () => {
  it('records initial, changed (data only), deleted and re-created versions, newest first, bounded', () => {
    const h = new ConfigHistory(3);
    h.observe('ns', 'cm', '1', { a: '1' }, 0, true);
    h.markTracking(0);
    expect(h.observe('ns', 'cm', '1', { a: '1' }, 10, false)).toBeUndefined();
    expect(h.observe('ns', 'cm', '2', { a: '1' }, 20, false)).toBeUndefined(); // a label change: same data
    expect(h.observe('ns', 'cm', '3', { a: '2', b: 'x' }, 30, false)?.changes).toEqual([
      { key: 'a', before: '1', after: '2' },
      { key: 'b', before: null, after: 'x' },
    ]);
    h.observeDeleted('ns', 'cm', '4', 40);
    expect(h.liveNames('ns')).toEqual([]);
    h.observe('ns', 'cm', '5', { a: '9' }, 50, true);
    const kinds = h.history('ns', 'cm').map((v) => v.kind);
    expect(kinds).toEqual(['created', 'deleted', 'changed']);
    expect(diffData({ a: '1', b: '2' }, { b: '2' })).toEqual([{ key: 'a', before: '1', after: null }]);
  });
});
