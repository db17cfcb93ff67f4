// The Kubernetes MCP server against a real control plane (kube-apiserver v1.37 on etcd, with the
// controller-manager, the scheduler and kwok's fake kubelets; see scripts/controlplane.sh): the
// tools over real Streamable HTTP, and what only a real API server does — controllers that make
// ReplicaSets, pods and events, the HPA controller holding its bounds, 409 on a stale write, 422
// from validation and from an admission policy, RBAC refusing a namespaced ServiceAccount outside
// its namespace. Cluster state is checked with an admin client of the test's own, never through
// the server under test.
import { AdmissionregistrationV1Api, ApiException, AppsV1Api, AutoscalingV2Api, CoreV1Api, PatchStrategy, PolicyV1Api, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { KubeClient } from '../../mcp-servers/kubernetes/kube-client.ts';
import { KubeAutoscaling } from '../../mcp-servers/kubernetes/kube-autoscaling.ts';
import {
  InterceptingKubeConfig,
  KWOK_NODE,
  adminKube,
  createDeployment,
  createHpa,
  createTenantNamespace,
  ensureKwokNode,
  namespacedServiceAccountKube,
  waitFor,
  waitForReadyReplicas,
} from './cluster.ts';

const A = 'tenant-a';
const B = 'tenant-b';
const MINUTE = 60_000;

describe('Kubernetes MCP server against a real kube-apiserver', () => {
  let admin: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let serverKube: InterceptingKubeConfig;
  const clock = new VirtualClock(Date.now());
  const keys = generateGrantKeys('cp-key');
  const publicKeys = new Map<string, KeyObject>([['cp-key', keys.publicKey]]);
  const closers: Array<() => Promise<void>> = [];
  let elastik: McpToolClient;

  const grantFor = (tool: string, args: Record<string, unknown>, tenant = A, namespace = A) =>
    issueGrant(keys, { proposal_id: `p-${tool}`, agent: 'elastik', tenant, namespace, server: 'kubernetes', tool, args, basis: 'policy', nowMs: clock.now(), ttlMs: 15 * MINUTE });
  const granted = (client: McpToolClient, tool: string, args: Record<string, unknown>, tenant = A) =>
    client.callTool<Record<string, unknown>>(tool, { ...args, grant: grantFor(tool, args, tenant, String(args['namespace'])) });
  const replicasOf = async (namespace: string, name: string) => (await apps.readNamespacedDeployment({ namespace, name })).spec?.replicas;

  beforeAll(async () => {
    admin = adminKube();
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    await ensureKwokNode(admin);
    await Promise.all([createTenantNamespace(admin, A, A), createTenantNamespace(admin, B, B)]);
    await Promise.all([
      createDeployment(admin, A, 'web', 2),
      createDeployment(admin, A, 'api', 2),
      createDeployment(admin, A, 'queue', 2),
      createDeployment(admin, A, 'worker', 2),
      createDeployment(admin, A, 'race', 2),
      createDeployment(admin, B, 'web', 2),
    ]);
    await createHpa(admin, A, 'api', 'api', 2, 4);
    await createHpa(admin, A, 'queue', 'queue', 2, 4);

    // The server runs as the cluster admin here (its namespaces come from the session); the
    // ServiceAccount test below runs a second one with a namespaced token.
    serverKube = InterceptingKubeConfig.from(admin);
    const shared = new MemorySharedState();
    const mcp = await startKubernetesMcpHttp({
      kube: serverKube,
      sharedState: shared,
      clock,
      grantPublicKeys: publicKeys,
      tokens: new Map([['elastik-token-0123456789', { agent: 'elastik', namespaces: [A] }]]),
    });
    elastik = await connectMcp({ url: mcp.url, token: 'elastik-token-0123456789', name: 'elastik' });
    closers.push(() => elastik.close(), () => mcp.close(), () => shared.close());
  });

  afterAll(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('reads what the controllers made: pods scheduled on the kwok node, the ReplicaSet as revision 1, the namespace capacity', async () => {
    const pods = await core.listNamespacedPod({ namespace: A, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) expect([p.spec?.nodeName, p.status?.phase]).toEqual([KWOK_NODE, 'Running']);

    const history = await elastik.callTool<{ current_revision: number; revisions: Array<{ revision: number; replica_set: string; replicas: number }> }>('get_rollout_history', { namespace: A, deployment: 'web' });
    expect(history).toMatchObject({ ok: true, data: { current_revision: 1, revisions: [{ revision: 1, replicas: 2 }] } });
    if (history.ok) expect(history.data.revisions[0]!.replica_set).toMatch(/^web-[a-z0-9]+$/);

    const capacity = await elastik.callTool<{ total_pods: number; deployments: Array<{ name: string; replicas: number; cpu_request_millicores: number; memory_request_bytes: number }> }>('get_namespace_capacity', { namespace: A });
    expect(capacity.ok).toBe(true);
    if (!capacity.ok) return;
    expect(capacity.data.deployments.find((d) => d.name === 'web')).toEqual({ name: 'web', replicas: 2, cpu_request_millicores: 100, memory_request_bytes: 128 * 2 ** 20 });
    expect(capacity.data.total_pods).toBeGreaterThanOrEqual(10);
  });

  it('reports what a cluster without a metrics server lacks as a tool error, and keeps serving', async () => {
    const out = await elastik.callTool('get_pod_metrics', { namespace: A, deployment: 'web' });
    expect(out).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    // Whichever of the two metrics APIs answers first, said in words (not the helper's bare "HTTP-Code: 500").
    if (!out.ok) expect(out.message).toMatch(/metrics\.k8s\.io answered with no API object.*metrics server|custom metrics API has no/);
    // The node view has no such dependency: its usage is null without a metrics server.
    const nodes = await new KubeClient(admin).readNode(KWOK_NODE);
    expect([nodes.name, nodes.usage]).toEqual([KWOK_NODE, null]);
    expect((await elastik.callTool('get_hpa_status', { namespace: A, deployment: 'web' })).ok).toBe(true);
  });

  it('refuses a namespace outside the session before asking the cluster', async () => {
    expect(await elastik.callTool('get_rollout_history', { namespace: B, deployment: 'web' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
  });

  it('scales within the guardrails with a grant; the controllers, the scheduler and kwok bring the pods up', async () => {
    // More than 3x in one call: refused by the server whatever the grant, the cluster untouched.
    const tooFar = await granted(elastik, 'scale_deployment', { namespace: A, deployment: 'web', replicas: 7 });
    expect(tooFar).toMatchObject({ ok: false, code: 'safety_violation' });
    expect(await replicasOf(A, 'web')).toBe(2);

    expect(await granted(elastik, 'scale_deployment', { namespace: A, deployment: 'web', replicas: 5 })).toMatchObject({ ok: true, data: { from_replicas: 2, to_replicas: 5 } });
    await waitForReadyReplicas(admin, A, 'web', 5);

    // A second scaling action within 300 s: the cooldown holds.
    expect(await granted(elastik, 'scale_deployment', { namespace: A, deployment: 'web', replicas: 6 })).toMatchObject({ ok: false, code: 'safety_violation' });
    expect(await replicasOf(A, 'web')).toBe(5);
  });

  it("get_events returns the controllers' own events: the deployment's scaling and the scheduler's placements", async () => {
    const scaling = await waitFor('ScalingReplicaSet events of web', async () => {
      const out = await elastik.callTool<{ events: Array<{ type: string; reason: string; message: string; object: { kind: string; name: string }; source: string | null }> }>('get_events', {
        namespace: A,
        kind: 'Deployment',
        name: 'web',
      });
      if (!out.ok) throw new Error(out.message);
      return out.data.events.some((e) => /to 5/.test(e.message)) ? out.data.events : undefined;
    });
    expect(scaling.every((e) => e.object.kind === 'Deployment' && e.object.name === 'web')).toBe(true);
    expect(scaling.find((e) => /to 5/.test(e.message))).toMatchObject({ type: 'Normal', reason: 'ScalingReplicaSet', source: 'deployment-controller' });

    const placed = await elastik.callTool<{ events: Array<{ reason: string; message: string }> }>('get_events', { namespace: A, kind: 'Pod', type: 'Normal' });
    expect(placed.ok).toBe(true);
    if (placed.ok) expect(placed.data.events.some((e) => e.reason === 'Scheduled' && e.message.includes(KWOK_NODE))).toBe(true);
  });

  it('get_hpa_status and set_hpa_bounds on a real autoscaling/v2 HPA: the HPA controller then holds the new floor', async () => {
    const status = await elastik.callTool<{ hpa: { name: string; min_replicas: number; max_replicas: number } | null }>('get_hpa_status', { namespace: A, deployment: 'api' });
    expect(status).toMatchObject({ ok: true, data: { hpa: { name: 'api', min_replicas: 2, max_replicas: 4 } } });

    // The HPA owns the count: scaling the deployment directly is refused.
    expect(await granted(elastik, 'scale_deployment', { namespace: A, deployment: 'api', replicas: 3 })).toMatchObject({ ok: false, code: 'conflict' });

    const set = await granted(elastik, 'set_hpa_bounds', { namespace: A, hpa: 'api', deployment: 'api', min_replicas: 3, max_replicas: 6 });
    expect(set).toMatchObject({ ok: true, data: { from: { min_replicas: 2, max_replicas: 4 }, to: { min_replicas: 3, max_replicas: 6 } } });
    const hpa = await admin.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: A, name: 'api' });
    expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual([3, 6]);
    // No metrics here, so the controller cannot compute a desired count, but it enforces the bounds.
    await waitForReadyReplicas(admin, A, 'api', 3);
    const rescaled = await waitFor('SuccessfulRescale event of the HPA', async () => {
      const out = await elastik.callTool<{ events: Array<{ reason: string; message: string; source: string | null }> }>('get_events', { namespace: A, kind: 'HorizontalPodAutoscaler', name: 'api' });
      return out.ok ? out.data.events.find((e) => e.reason === 'SuccessfulRescale') : undefined;
    });
    expect(rescaled.message).toMatch(/New size: 3/);
  });

  it('patch_resource_limits changes the template; the deployment controller rolls out revision 2', async () => {
    const out = await granted(elastik, 'patch_resource_limits', { namespace: A, deployment: 'worker', container: 'app', limits: { memory: '384Mi' } });
    expect(out).toMatchObject({ ok: true, data: { changed: true, from: { limits: { memory: '256Mi' } }, to: { limits: { memory: '384Mi' } } } });
    const d = await waitForReadyReplicas(admin, A, 'worker', 2);
    expect(d.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '500m', memory: '384Mi' });
    const history = await waitFor('revision 2 of worker', async () => {
      const h = await elastik.callTool<{ current_revision: number; revisions: Array<{ revision: number; replicas: number }> }>('get_rollout_history', { namespace: A, deployment: 'worker' });
      return h.ok && h.data.current_revision === 2 && h.data.revisions.find((r) => r.revision === 2)?.replicas === 2 ? h.data : undefined;
    });
    expect(history.revisions.map((r) => r.revision)).toEqual([1, 2]);
    const pods = await core.listNamespacedPod({ namespace: A, labelSelector: 'app=worker' });
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(live.every((p) => p.spec?.containers[0]?.resources?.limits?.['memory'] === '384Mi')).toBe(true);
  });

  it('rollback_deployment restores revision 1; the real controller renumbers it as revision 3, reusing its ReplicaSet', async () => {
    const before = await apps.listNamespacedReplicaSet({ namespace: A, labelSelector: 'app=worker' });
    const rev1 = before.items.find((rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1')!.metadata!.name;
    const out = await granted(elastik, 'rollback_deployment', { namespace: A, deployment: 'worker', to_revision: 1 });
    expect(out).toMatchObject({ ok: true, data: { from_revision: 2, to_revision: 1, changed: true } });
    const d = await waitForReadyReplicas(admin, A, 'worker', 2);
    expect(d.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '500m', memory: '256Mi' });
    const history = await waitFor('revision 3 of worker', async () => {
      const h = await elastik.callTool<{ current_revision: number; revisions: Array<{ revision: number; replica_set: string; replicas: number }> }>('get_rollout_history', { namespace: A, deployment: 'worker' });
      return h.ok && h.data.current_revision === 3 && h.data.revisions.find((r) => r.revision === 3)?.replicas === 2 ? h.data : undefined;
    });
    // Kubernetes moves the old ReplicaSet to the new revision number rather than making a new one.
    expect(history.revisions.map((r) => [r.revision, r.replica_set])).toEqual([
      [2, expect.stringMatching(/^worker-/)],
      [3, rev1],
    ]);
  });

  describe("a write over another actor's change: 409 from the API server, reported as conflict", () => {
    /** Another actor changes the object between the server's read and its write. */
    const raceOnce = (matches: (method: string, url: URL) => boolean, change: () => Promise<unknown>) => {
      let fired = false;
      serverKube.before = async (method, url) => {
        if (fired || !matches(method, url)) return;
        fired = true;
        await change();
      };
      return () => {
        serverKube.before = undefined;
        return fired;
      };
    };
    const mergePatch = (namespace: string, name: string, body: object) =>
      apps.patchNamespacedDeployment({ namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    /** A change of the spec (a new generation), as another operator's edit. */
    let historyLimit = 5;
    const editSpec = (namespace: string, name: string) => mergePatch(namespace, name, { spec: { revisionHistoryLimit: historyLimit++ } });

    it('scale_deployment', async () => {
      const done = raceOnce((m, u) => m === 'PATCH' && u.pathname.endsWith(`/namespaces/${A}/deployments/race/scale`), () => editSpec(A, 'race'));
      const out = await granted(elastik, 'scale_deployment', { namespace: A, deployment: 'race', replicas: 3 });
      expect(done()).toBe(true);
      expect(out).toMatchObject({ ok: false, code: 'conflict' });
      if (!out.ok) expect(out.message).toMatch(/has been modified/);
      expect(await replicasOf(A, 'race')).toBe(2);
      // The refused write started no cooldown: the same call on fresh state goes through.
      expect(await granted(elastik, 'scale_deployment', { namespace: A, deployment: 'race', replicas: 3 })).toMatchObject({ ok: true, data: { to_replicas: 3 } });
    });

    // (A Deployment's annotations count as spec here: changing them bumps its generation.)
    it('a change of status or labels alone (what controllers write all the time) is no conflict: the write goes on at the fresh resourceVersion', async () => {
      const done = raceOnce(
        (m, u) => m === 'PATCH' && u.pathname.endsWith(`/namespaces/${A}/deployments/race`),
        () => mergePatch(A, 'race', { metadata: { labels: { 'example.com/touched-by': 'another-actor' } } }),
      );
      const out = await granted(elastik, 'patch_resource_limits', { namespace: A, deployment: 'race', container: 'app', requests: { cpu: '150m' } });
      expect(done()).toBe(true);
      expect(out).toMatchObject({ ok: true, data: { changed: true } });
      const d = await apps.readNamespacedDeployment({ namespace: A, name: 'race' });
      expect(d.spec?.template.spec?.containers[0]?.resources?.requests?.['cpu']).toBe('150m');
      expect(d.metadata?.labels?.['example.com/touched-by']).toBe('another-actor');
    });

    it('set_hpa_bounds', async () => {
      const hpas = admin.makeApiClient(AutoscalingV2Api);
      const done = raceOnce(
        (m, u) => m === 'PATCH' && u.pathname.endsWith(`/namespaces/${A}/horizontalpodautoscalers/queue`),
        () =>
          hpas.patchNamespacedHorizontalPodAutoscaler(
            { namespace: A, name: 'queue', body: { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
      );
      const out = await granted(elastik, 'set_hpa_bounds', { namespace: A, hpa: 'queue', deployment: 'queue', min_replicas: 3, max_replicas: 5 });
      expect(done()).toBe(true);
      expect(out).toMatchObject({ ok: false, code: 'conflict' });
      const hpa = await hpas.readNamespacedHorizontalPodAutoscaler({ namespace: A, name: 'queue' });
      expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual([2, 4]);
    });

    it('patch_resource_limits', async () => {
      // Its own cooldown (300 s between resource changes) started with the write just above: a fresh clock window.
      await clock.advance(6 * MINUTE);
      const done = raceOnce((m, u) => m === 'PATCH' && u.pathname.endsWith(`/namespaces/${A}/deployments/race`), () => editSpec(A, 'race'));
      const out = await granted(elastik, 'patch_resource_limits', { namespace: A, deployment: 'race', container: 'app', limits: { cpu: '750m' } });
      expect(done()).toBe(true);
      expect(out).toMatchObject({ ok: false, code: 'conflict' });
      expect((await apps.readNamespacedDeployment({ namespace: A, name: 'race' })).spec?.template.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('500m');
    });
  });

  describe('an invalid object: 422 from the API server, reported as input_invalid', () => {
    it('negative replicas and inverted HPA bounds, refused by validation (below the tools, whose schemas refuse them first)', async () => {
      const negative = await new KubeClient(admin).scale(A, 'race', -1).catch((e: unknown) => e);
      expect(negative).toBeInstanceOf(GovernorError);
      expect(negative).toMatchObject({ code: 'input_invalid', retryable: false, details: { status: 422 } });
      expect((negative as Error).message).toMatch(/spec\.replicas.*greater than or equal to 0/);

      const inverted = await new KubeAutoscaling(admin).setHpaBounds(A, 'queue', 5, 3, undefined).catch((e: unknown) => e);
      expect(inverted).toMatchObject({ code: 'input_invalid', details: { status: 422 } });
      expect((inverted as Error).message).toMatch(/maxReplicas/);
    });

    it("a cluster's own ValidatingAdmissionPolicy refusing a change the guardrails allow", async () => {
      const admission = admin.makeApiClient(AdmissionregistrationV1Api);
      const name = 'governor-cp-memory-ceiling';
      await admission.createValidatingAdmissionPolicy({
        body: {
          metadata: { name },
          spec: {
            failurePolicy: 'Fail',
            matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments'], resourceNames: ['web'] }] },
            validations: [
              {
                expression: "object.spec.template.spec.containers.all(c, !has(c.resources.limits) || !('memory' in c.resources.limits) || quantity(c.resources.limits['memory']).compareTo(quantity('400Mi')) <= 0)",
                message: 'memory limits above 400Mi need a capacity review',
              },
            ],
          },
        },
      });
      await admission.createValidatingAdmissionPolicyBinding({
        body: { metadata: { name }, spec: { policyName: name, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'governor.io/tenant': A } } } } },
      });
      closers.push(async () => {
        await admission.deleteValidatingAdmissionPolicyBinding({ name });
        await admission.deleteValidatingAdmissionPolicy({ name });
      });
      // The policy takes effect once the API server has compiled it: probe with a dry run.
      const probe = structuredClone(await apps.readNamespacedDeployment({ namespace: A, name: 'web' }));
      probe.spec!.template.spec!.containers[0]!.resources!.limits!['memory'] = '500Mi';
      const refusal = await waitFor('the admission policy to refuse', async () => {
        const fresh = await apps.readNamespacedDeployment({ namespace: A, name: 'web' });
        probe.metadata!.resourceVersion = fresh.metadata!.resourceVersion;
        return apps.replaceNamespacedDeployment({ namespace: A, name: 'web', body: probe, dryRun: 'All' }).then(
          () => undefined,
          (e: unknown) => (e instanceof ApiException ? e : undefined),
        );
      });
      expect(refusal.code).toBe(422);

      // 256Mi → 500Mi is within the guardrails (less than double), so only the cluster refuses it.
      const out = await granted(elastik, 'patch_resource_limits', { namespace: A, deployment: 'web', container: 'app', limits: { memory: '500Mi' } });
      expect(out).toMatchObject({ ok: false, code: 'input_invalid' });
      if (!out.ok) expect(out.message).toMatch(/422.*memory limits above 400Mi need a capacity review/);
      expect((await apps.readNamespacedDeployment({ namespace: A, name: 'web' })).spec?.template.spec?.containers[0]?.resources?.limits?.['memory']).toBe('256Mi');
    });
  });

  it('a namespaced ServiceAccount token (TokenRequest) acts in its namespace; the cluster refuses it (403) in another, and the server reports that as a tool error', async () => {
    const sa = await namespacedServiceAccountKube(admin, A, 'governor-kubernetes-mcp');
    // The cluster itself draws the line, whatever a session claims.
    const direct = await sa.kube.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: B, name: 'web' }).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(ApiException);
    expect((direct as ApiException<unknown>).code).toBe(403);

    // A session bound (wrongly) to both namespaces, served with the tenant-a token.
    const shared = new MemorySharedState();
    const mcp = await startKubernetesMcpHttp({ kube: sa.kube, sharedState: shared, clock, grantPublicKeys: publicKeys, tokens: new Map([['sa-token-0123456789', { agent: 'elastik', namespaces: [A, B] }]]) });
    const client = await connectMcp({ url: mcp.url, token: 'sa-token-0123456789', name: 'elastik' });
    closers.push(() => client.close(), () => mcp.close(), () => shared.close());

    expect(await client.callTool('get_rollout_history', { namespace: A, deployment: 'race' })).toMatchObject({ ok: true, data: { deployment: 'race' } });

    const read = await client.callTool('get_rollout_history', { namespace: B, deployment: 'web' });
    expect(read).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    if (!read.ok) expect(read.message).toMatch(new RegExp(`\\(403\\).*${sa.user}.*cannot get resource "deployments".*namespace "${B}"`));

    const write = await granted(client, 'scale_deployment', { namespace: B, deployment: 'web', replicas: 3 }, B);
    expect(write).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    if (!write.ok) expect(write.message).toMatch(/403/);
    expect(await replicasOf(B, 'web')).toBe(2);

    // Its own namespace, after the refusals: still served, and a granted write goes through.
    expect(await granted(client, 'scale_deployment', { namespace: A, deployment: 'race', replicas: 4 })).toMatchObject({ ok: true, data: { from_replicas: 3, to_replicas: 4 } });
    await waitForReadyReplicas(admin, A, 'race', 4);
  });

  it("cordon_node with a drain evicts only the session's pods, one at a time as the PodDisruptionBudget allows (429 for the rest); uncordon_node undoes it", async () => {
    const node = 'kwok-node-drain';
    const pool = { node, taint: 'drain' };
    await ensureKwokNode(admin, node, pool.taint);
    await Promise.all([createDeployment(admin, A, 'batch', 3, pool), createDeployment(admin, B, 'batch', 1, pool)]);
    await admin.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({ namespace: A, body: { metadata: { name: 'batch' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'batch' } } } } });
    // The disruption controller has to have counted the healthy pods before an eviction is allowed.
    await waitFor('the PodDisruptionBudget to allow one disruption', async () => {
      const pdb = await admin.makeApiClient(PolicyV1Api).readNamespacedPodDisruptionBudget({ namespace: A, name: 'batch' });
      return pdb.status?.disruptionsAllowed === 1 && pdb.status.observedGeneration === pdb.metadata?.generation;
    });

    // A node tool's grant names the namespace it was proposed for (the tenant's pods on the node).
    const out = await elastik.callTool('cordon_node', { node, drain: true, grant: grantFor('cordon_node', { node, drain: true }) });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const data = out.data as { unschedulable: boolean; evicted: Array<{ namespace: string; pod: string }>; kept: Array<{ namespace: string; pod: string; reason: string }>; other_tenants_pods: number };
    expect(data.unschedulable).toBe(true);
    expect(data.other_tenants_pods).toBe(1);
    expect(data.evicted).toHaveLength(1);
    expect(data.kept).toHaveLength(2);
    for (const k of data.kept) expect(k.reason).toMatch(/429.*disruption budget/);
    expect([...data.evicted, ...data.kept].every((p) => p.namespace === A)).toBe(true);
    expect((await core.readNode({ name: node })).spec?.unschedulable).toBe(true);
    // The replacement cannot land anywhere (its only node is cordoned): Pending, as the scheduler says.
    await waitFor('a Pending replacement pod of batch', async () => {
      const pods = await core.listNamespacedPod({ namespace: A, labelSelector: 'app=batch' });
      return pods.items.some((p) => p.status?.phase === 'Pending' && !p.spec?.nodeName);
    });
    expect((await core.listNamespacedPod({ namespace: B, labelSelector: 'app=batch' })).items.map((p) => p.status?.phase)).toEqual(['Running']);

    expect(await elastik.callTool('uncordon_node', { node, grant: grantFor('uncordon_node', { node }) })).toMatchObject({ ok: true, data: { unschedulable: false } });
    await waitForReadyReplicas(admin, A, 'batch', 3);
  });
});
