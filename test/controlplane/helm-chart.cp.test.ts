// The Helm chart against a real kube-apiserver (RBAC authorization, admission, validation): the
// chart rendered for every phase and applied with `kubectl apply --dry-run=server`, which validates
// every object as the API server would store it (schemas, RBAC objects, references to namespaces),
// then its ServiceAccounts and RBAC applied for real, and least privilege judged by the API server
// itself: `kubectl auth can-i` and real requests made as each ServiceAccount (impersonated with its
// groups). helm missing is a failure, not a skip: .ci/run installs it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PHASES, helmBinary, renderChart } from '../deploy/helm.ts';
import { adminKube, createTenantNamespace } from './cluster.ts';
import { CoreV1Api } from '@kubernetes/client-node';

const run = promisify(execFile);
const RELEASE = 'governor';
const NS = 'governor-system';
/** Not a tenant's: nothing of the chart may write here. */
const BYSTANDER = 'bystander-prod';
const TENANT_NS = ['acme-prod', 'initech-prod'];
const AGENTS = ['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist'];

let dir: string;
let kubeconfig: string;

interface Result { code: number; stdout: string; stderr: string }

async function kubectl(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 32 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The ServiceAccount of a component, as the API server sees its requests (user and groups). */
const as = (component: string) => [
  `--as=system:serviceaccount:${NS}:${RELEASE}-${component}`,
  '--as-group=system:serviceaccounts',
  `--as-group=system:serviceaccounts:${NS}`,
  '--as-group=system:authenticated',
];

async function can(component: string, verb: string, resource: string, namespace: string | undefined, subresource?: string): Promise<boolean> {
  const r = await kubectl(['auth', 'can-i', verb, resource, ...(namespace ? ['-n', namespace] : []), ...(subresource ? [`--subresource=${subresource}`] : []), ...as(component)]);
  if (r.code !== 0 && r.stdout.trim() !== 'no') throw new Error(`kubectl auth can-i failed: ${r.stderr}`);
  return r.code === 0 && r.stdout.trim() === 'yes';
}

beforeAll(async () => {
  helmBinary(); // fails here, saying how to install it, rather than skipping
  dir = mkdtempSync(join(tmpdir(), 'governor-helm-cp-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, inject('controlplaneKubeconfig'), { mode: 0o600 });
  const admin = adminKube();
  // The tenants' namespaces exist and carry their tenant label before install (README, "Install in a cluster").
  await createTenantNamespace(admin, 'acme-prod', 'acme', 'production');
  await createTenantNamespace(admin, 'initech-prod', 'initech', 'production');
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespace({ body: { metadata: { name: BYSTANDER } } });
  for (const ns of [...TENANT_NS, BYSTANDER]) {
    const r = await kubectl(['create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10', '--replicas=1', '-n', ns]);
    expect(r.code, r.stderr).toBe(0);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Helm chart on a real API server', () => {
  for (const phase of PHASES) {
    it(`values-${phase}.yaml: every rendered object passes the API server's validation and admission (dry run)`, async () => {
      const rendered = renderChart(phase, [], RELEASE, NS);
      const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], rendered.yaml);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).toBe(rendered.objects.length);
      for (const line of lines) expect(line).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
    });
  }

  it('helm install, then a phase change by values override: the tokens stay (lookup), only the phase ConfigMap changes, no pod template changes', async () => {
    const ns = 'governor-helm';
    const chart = join(import.meta.dirname, '../../deploy/helm/governor');
    const helm = (args: string[]) => run(helmBinary(), ['--kubeconfig', kubeconfig, '-n', ns, ...args], { maxBuffer: 32 * 1024 * 1024, timeout: 120_000 });
    await helm(['install', 'gov', chart, '--create-namespace', '-f', join(chart, 'values-observe.yaml')]);
    const state = async () => {
      const secret = await kubectl(['get', 'secret', 'gov-governor-mcp-tokens-kubernetes', '-n', ns, '-o', 'jsonpath={.data.tokens\\.json}']);
      const phase = await kubectl(['get', 'configmap', 'gov-governor-phase', '-n', ns, '-o', 'jsonpath={.data.governor\\.json}']);
      const generations = await kubectl(['get', 'deployments', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.generation}{"\\n"}{end}']);
      return { tokens: secret.stdout, phase: JSON.parse(phase.stdout) as { phase: string }, generations: generations.stdout.trim().split('\n').sort() };
    };
    const before = await state();
    expect(before.phase.phase).toBe('observe');
    expect(before.generations.length).toBe(15);
    expect(Object.keys(JSON.parse(Buffer.from(before.tokens, 'base64').toString('utf8')) as object).length).toBe(10);
    await helm(['upgrade', 'gov', chart, '--reuse-values', '-f', join(chart, 'values-govern.yaml')]);
    const after = await state();
    expect(after.phase.phase).toBe('govern');
    expect(after.tokens).toBe(before.tokens);
    // A Deployment's generation moves with any change of its spec: none moved, so no pod restarts.
    expect(after.generations).toEqual(before.generations);
  });

  describe('least privilege, as the API server judges it', () => {
    beforeAll(async () => {
      const rendered = renderChart('govern', [], RELEASE, NS);
      const rbac = rendered.objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
      const r = await kubectl(['apply', '-f', '-'], dump({ apiVersion: 'v1', kind: 'List', items: rbac }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').length).toBe(rbac.length);
    });

    it('Watchtower reads and cannot write: not a scale, not a deployment, not anywhere', async () => {
      for (const ns of [...TENANT_NS, BYSTANDER]) {
        expect(await can('watchtower', 'list', 'deployments', ns)).toBe(true);
        expect(await can('watchtower', 'watch', 'pods', ns)).toBe(true);
        expect(await can('watchtower', 'patch', 'deployments', ns, 'scale')).toBe(false);
        expect(await can('watchtower', 'update', 'deployments', ns, 'scale')).toBe(false);
        expect(await can('watchtower', 'patch', 'deployments', ns)).toBe(false);
      }
      expect(await can('watchtower', 'list', 'nodes', undefined)).toBe(true);
      expect(await can('watchtower', 'patch', 'nodes', undefined)).toBe(false);
      const r = await kubectl(['scale', 'deployment/web', '--replicas=2', '-n', 'acme-prod', '--dry-run=server', ...as('watchtower')]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/forbidden/);
    });

    it('the Kubernetes MCP server scales in its tenants’ namespaces and nowhere else', async () => {
      for (const ns of TENANT_NS) {
        expect(await can('mcp-kubernetes', 'patch', 'deployments', ns, 'scale'), ns).toBe(true);
        expect(await can('mcp-kubernetes', 'patch', 'horizontalpodautoscalers.autoscaling', ns)).toBe(true);
        expect(await can('mcp-kubernetes', 'create', 'pods', ns, 'eviction')).toBe(true);
        expect(await can('mcp-kubernetes', 'delete', 'deployments', ns)).toBe(false);
        expect(await can('mcp-kubernetes', 'delete', 'pods', ns)).toBe(false);
        const ok = await kubectl(['scale', 'deployment/web', '--replicas=2', '-n', ns, '--dry-run=server', ...as('mcp-kubernetes')]);
        expect(ok.code, ok.stderr).toBe(0);
      }
      for (const ns of [BYSTANDER, NS]) {
        expect(await can('mcp-kubernetes', 'patch', 'deployments', ns, 'scale'), ns).toBe(false);
        expect(await can('mcp-kubernetes', 'patch', 'deployments', ns)).toBe(false);
        expect(await can('mcp-kubernetes', 'create', 'pods', ns, 'eviction')).toBe(false);
      }
      const refused = await kubectl(['scale', 'deployment/web', '--replicas=2', '-n', BYSTANDER, '--dry-run=server', ...as('mcp-kubernetes')]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/forbidden/);
      // cordon_node / uncordon_node: patch nodes, nothing more on nodes.
      expect(await can('mcp-kubernetes', 'patch', 'nodes', undefined)).toBe(true);
      expect(await can('mcp-kubernetes', 'delete', 'nodes', undefined)).toBe(false);
    });

    it('no other component may scale anywhere; agents, the gateway and the executor write nothing', async () => {
      const others = [...AGENTS, 'gateway', 'executor', 'mcp-configmap', 'mcp-feature-flags', 'mcp-billing', 'mcp-finops', 'mcp-prometheus', 'mcp-opa', 'mcp-cloud'];
      for (const c of others) {
        for (const ns of [...TENANT_NS, BYSTANDER]) expect(await can(c, 'patch', 'deployments', ns, 'scale'), `${c} in ${ns}`).toBe(false);
      }
      for (const c of [...AGENTS, 'gateway', 'executor']) {
        for (const verb of ['patch', 'update', 'create', 'delete']) {
          expect(await can(c, verb, 'deployments', 'acme-prod'), `${c} ${verb}`).toBe(false);
          expect(await can(c, verb, 'configmaps', 'acme-prod'), `${c} ${verb} configmaps`).toBe(false);
        }
        expect(await can(c, 'patch', 'nodes', undefined)).toBe(false);
      }
    });

    it('the ConfigMap and Feature Flag servers update config maps in tenant namespaces only; Billing patches deployments there only', async () => {
      for (const c of ['mcp-configmap', 'mcp-feature-flags']) {
        expect(await can(c, 'update', 'configmaps', 'acme-prod')).toBe(true);
        expect(await can(c, 'update', 'configmaps', BYSTANDER)).toBe(false);
        expect(await can(c, 'update', 'configmaps', NS)).toBe(false);
        expect(await can(c, 'delete', 'configmaps', 'acme-prod')).toBe(false);
      }
      // Their tenant-label check reads the namespace object itself, through the Role there (they have no cluster read).
      for (const ns of TENANT_NS) {
        const label = await kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.metadata.labels.governor\\.io/tenant}', ...as('mcp-configmap')]);
        expect(label.code, label.stderr).toBe(0);
        expect(label.stdout).toBe(ns.replace(/-prod$/, ''));
      }
      const other = await kubectl(['get', 'namespace', BYSTANDER, ...as('mcp-configmap')]);
      expect(other.stderr).toMatch(/forbidden/);
      expect(await can('mcp-billing', 'patch', 'deployments', 'initech-prod')).toBe(true);
      expect(await can('mcp-billing', 'patch', 'deployments', BYSTANDER)).toBe(false);
      expect(await can('mcp-finops', 'list', 'deployments', 'acme-prod')).toBe(true);
      expect(await can('mcp-finops', 'list', 'deployments', BYSTANDER)).toBe(false);
    });

    it('no component reads Secrets: the MCP tokens and keys reach a pod only as its own mounted files', async () => {
      for (const c of [...AGENTS, 'gateway', 'executor', 'mcp-kubernetes', 'mcp-configmap', 'mcp-billing', 'mcp-finops']) {
        for (const ns of [NS, 'acme-prod']) {
          expect(await can(c, 'get', 'secrets', ns), `${c} in ${ns}`).toBe(false);
          expect(await can(c, 'list', 'secrets', ns)).toBe(false);
        }
      }
    });
  });
});
