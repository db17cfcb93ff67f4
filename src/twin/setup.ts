// What the twin does that is not a Kubernetes operation: the cluster as it stands when a story begins
// (namespaces, nodes, deployments that have been running for a while, with their revision history and
// heaps settled under their load) and the levers scenarios and tests pull to set a story in motion (a
// deployment's offered load, a pod's heap, a node daemon's leak). Nothing outside scenarios, tests
// and the twin's own construction should reach these; clients change the cluster through the API.
// The controllers finish what a setup starts: ClusterTwin reconciles after each one.
import { alreadyExists, notFound, TwinError } from './twin-errors.ts';
import { CHANGE_CAUSE_ANNOTATION, type PodTemplateSpec, type StringMap } from './kube-objects.ts';
import type { LoadSource } from './load-shapes.ts';
import { DEFAULT_WORKLOAD, advanceHeap, podPerformance, type HeapState, type Workload } from './performance-model.ts';
import { Prng, deriveSeed } from './prng.ts';
import { parseQuantity } from './quantity.ts';
import { key, type TwinStore } from './twin-store.ts';
import { clone, newReplicaSetOf, type ConfigEffect, type DeploymentState, type NodeState } from './twin-state.ts';
import { validateTemplate } from './validation.ts';
import { createReplicaSet } from './controllers/deployment.ts';
import { settleLeak } from './controllers/kubelet.ts';
import { conditionsOf, offeredLoad, refreshPerformance } from './controllers/performance.ts';
import { createPod } from './controllers/pods.ts';
import { templateHash } from './pod-template.ts';

const MiB = 2 ** 20;

export interface NodeSetup {
  name: string;
  /** Capacity: cores ("16", "15800m" or a number) and bytes ("64Gi" or a number). */
  cpu: string | number;
  memory: string | number;
  pods?: number;
  /** What pods may request; absent: the capacity. */
  allocatable?: { cpu?: string | number; memory?: string | number };
  labels?: StringMap;
  unschedulable?: boolean;
  createdAtMs?: number;
  /** A system daemon on the node (not a pod) leaking memory at this rate from the start; see setNodeSystemMemoryLeak. */
  systemMemoryLeakMiBPerMin?: number;
}

export interface RevisionSetup {
  template: PodTemplateSpec;
  changeCause?: string;
  createdAtMs: number;
}

/** A deployment as it stands when the twin starts, with the history that led there. */
export interface DeploymentSetup {
  namespace: string;
  name: string;
  replicas: number;
  /** Oldest first; the last one is running. Its pods were started at its createdAtMs. */
  revisions: RevisionSetup[];
  labels?: StringMap;
  /** The Deployment's own annotations (Governor's `governor.io/slo-p99-ms` among them, DESIGN §8). */
  annotations?: StringMap;
  /** Requests per second offered to the whole deployment. */
  rps: LoadSource;
  workload?: Partial<Workload>;
  /** Range new pods draw their allocation skew from (see HeapState). */
  allocationSkew?: [number, number];
  configEffect?: ConfigEffect;
}

/** Four roomy nodes (16 cores, 64 GiB) that no built-in scenario fills: the twin's nodes when none are given. */
export const DEFAULT_NODES: NodeSetup[] = [1, 2, 3, 4].map((i) => ({
  name: `twin-node-${i}`,
  cpu: 16,
  memory: '64Gi',
  allocatable: { cpu: '15890m', memory: '62Gi' },
  labels: { 'node.kubernetes.io/instance-type': 'm6i.4xlarge', 'topology.kubernetes.io/zone': `eu-west-1${'abc'[(i - 1) % 3]}` },
}));

export function createNamespace(store: TwinStore, name: string, labels: StringMap, createdAtMs: number): void {
  if (store.namespaces.has(name)) throw alreadyExists('namespaces', name);
  store.namespaces.set(name, { name, uid: store.uids.uuid(), labels: { 'kubernetes.io/metadata.name': name, ...labels }, createdMs: createdAtMs, rv: store.nextRv() });
  store.touch('namespaces', undefined, name, 'ADDED');
}

/** A node that has been up for a month unless told otherwise (the cluster autoscaler's new node says when it came). */
export function createNode(store: TwinStore, setup: NodeSetup): NodeState {
  // One past the highest (not the count): a node removed by a scale-in leaves its pod CIDR unused, never shared.
  const index = Math.max(-1, ...[...store.nodes.values()].map((n) => n.index)) + 1;
  const cpu = parseQuantity(setup.cpu);
  const memory = parseQuantity(setup.memory);
  const pods = setup.pods ?? 110;
  const n: NodeState = {
    name: setup.name,
    uid: store.otherUids.uuid(),
    index,
    createdMs: setup.createdAtMs ?? store.simMs - 30 * 86_400_000,
    rv: store.nextRv(),
    labels: {
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': setup.name,
      'kubernetes.io/os': 'linux',
      ...setup.labels,
    },
    annotations: {},
    unschedulable: setup.unschedulable ?? false,
    unschedulableSinceMs: store.simMs,
    capacity: { cpu, memory, pods },
    allocatable: {
      cpu: setup.allocatable?.cpu !== undefined ? parseQuantity(setup.allocatable.cpu) : cpu,
      memory: setup.allocatable?.memory !== undefined ? parseQuantity(setup.allocatable.memory) : memory,
      pods,
    },
    requested: { cpu: 0, memory: 0, pods: 0 },
    pods: new Set(),
    ip: `10.0.0.${index + 11}`,
    podSeq: 0,
    cpuUsedMillicores: 0,
    memoryUsedBytes: 0,
    systemLeakBytesPerMs: ((setup.systemMemoryLeakMiBPerMin ?? 0) * MiB) / 60_000,
    systemLeakedBytes: 0,
    memoryPressure: false,
    memoryPressureSinceMs: setup.createdAtMs ?? store.simMs - 30 * 86_400_000,
    evictionThresholdMetMs: Number.NEGATIVE_INFINITY,
    nextEvictionMs: Number.NEGATIVE_INFINITY,
    reclaimSpeed: 1,
  };
  store.nodes.set(n.name, n);
  store.touch('nodes', undefined, n.name, 'ADDED');
  return n;
}

/**
 * A deployment that has been running: its ReplicaSets for every revision, and the running revision's
 * pods, ready, with heaps that have settled under the initial load for as long as they have been up
 * (at most an hour). Uids and pod names come from the seed in creation order.
 */
export function createDeployment(store: TwinStore, setup: DeploymentSetup): void {
  const { namespace, name } = setup;
  if (!store.namespaces.has(namespace)) throw notFound('namespaces', namespace);
  if (store.deployments.has(key(namespace, name))) throw alreadyExists('deployments', name, 'apps');
  if (setup.revisions.length === 0) throw new TwinError('Invalid', `deployment ${name} needs at least one revision`, { kind: 'deployments', group: 'apps', name });
  const selector = { app: name };
  const templates = setup.revisions.map((r) => {
    const t = clone(r.template);
    t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, ...selector } };
    return validateTemplate(t, selector, name);
  });
  const current = templates[templates.length - 1]!;
  const first = setup.revisions[0]!;
  const last = setup.revisions[setup.revisions.length - 1]!;
  const d: DeploymentState = {
    namespace,
    name,
    uid: store.uids.uuid(),
    createdMs: first.createdAtMs,
    rv: store.nextRv(),
    generation: setup.revisions.length,
    labels: { app: name, ...setup.labels },
    annotations: { ...setup.annotations, ...(last.changeCause ? { [CHANGE_CAUSE_ANNOTATION]: last.changeCause } : {}) },
    replicas: setup.replicas,
    selector,
    template: current,
    templateHash: templateHash(current),
    load: setup.rps,
    loadNoise: 0,
    currentRps: 0,
    workload: { ...DEFAULT_WORKLOAD, ...setup.workload },
    configEffect: setup.configEffect,
    skewRange: setup.allocationSkew ?? [0.8, 0.95],
    names: new Prng(deriveSeed(store.seed, `names/${namespace}/${name}`)),
    noise: new Prng(deriveSeed(store.seed, `load/${namespace}/${name}`)),
    statusJson: '',
    conditionSince: {},
    replicaSets: [],
    pods: new Set(),
  };
  store.deployments.set(key(namespace, name), d);
  store.touch('deployments', namespace, name, 'ADDED');
  setup.revisions.forEach((r, i) => {
    const rs = createReplicaSet(store, d, templates[i]!, i + 1, r.changeCause, r.createdAtMs);
    if (i === setup.revisions.length - 1) rs.replicas = setup.replicas;
  });
  const rs = newReplicaSetOf(d)!;
  d.currentRps = offeredLoad(store, d);
  const share = setup.replicas > 0 ? d.currentRps / setup.replicas : 0;
  const settleS = Math.min(3600, Math.max(0, (store.simMs - last.createdAtMs) / 1000));
  for (let i = 0; i < setup.replicas; i++) {
    // The original rollout brought pods up a few seconds apart.
    const pod = createPod(store, rs, last.createdAtMs + i * 3_000);
    if (!pod.node) continue;
    pod.readySinceMs = pod.readyAtMs;
    store.starting.delete(pod);
    settleLeak(store, pod);
    const c = conditionsOf(store, pod, share);
    for (let s = 0; s < settleS; s++) pod.heap = advanceHeap(pod.heap, podPerformance(pod.heap, c), c, 1);
  }
}

/** Changes the load offered to a deployment from now on. */
export function setLoad(store: TwinStore, namespace: string, name: string, rps: LoadSource): void {
  store.mustGetDeployment(namespace, name).load = rps;
  refreshPerformance(store);
}

/** Puts a pod's heap in a given state: a scenario starts in the middle of a story. */
export function tunePod(store: TwinStore, namespace: string, pod: string, heap: Partial<HeapState>): void {
  const p = store.pods.get(key(namespace, pod));
  if (!p) throw notFound('pods', pod);
  p.heap = { ...p.heap, ...heap };
  refreshPerformance(store);
}

/** A node's system daemon leaks `mibPerMin` from now on (0 stops it; what it holds stays held). */
export function setNodeSystemMemoryLeak(store: TwinStore, node: string, mibPerMin: number): void {
  const n = store.nodes.get(node);
  if (!n) throw notFound('nodes', node);
  if (!Number.isFinite(mibPerMin) || mibPerMin < 0) throw new TwinError('Invalid', `leak rate must be a non-negative number, not ${mibPerMin}`, { kind: 'nodes', name: node });
  n.systemLeakBytesPerMs = (mibPerMin * MiB) / 60_000;
}
