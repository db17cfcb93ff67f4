// The cluster twin's state rendered as the JSON a real API server returns (kube-objects.ts): what
// every read and every watch event of the twin hands out. Pure functions of the state (and the model
// time where a field depends on it); they must never change state.
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import {
  CHANGE_CAUSE_ANNOTATION,
  MEMORY_PRESSURE_TAINT,
  UNSCHEDULABLE_TAINT,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  type Condition,
  type ConfigMap,
  type Deployment,
  type HorizontalPodAutoscaler,
  type KubeEvent,
  type Namespace,
  type Node,
  type Pod,
  type PodTemplateSpec,
  type ReplicaSet,
  type Taint,
} from './kube-objects.ts';
import {
  clone,
  deploymentStatusCore,
  iso,
  newReplicaSetOf,
  readyCount,
  rollingLimits,
  type ConfigMapState,
  type DeploymentState,
  type EventState,
  type HpaState,
  type NamespaceState,
  type NodeState,
  type PodState,
  type ReplicaSetState,
  type Resources,
} from './twin-state.ts';

const formatCores = (cores: number) => (Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`);
const formatBytes = (bytes: number) => `${Math.round(bytes / 1024)}Ki`;

export function renderNamespace(n: NamespaceState): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: n.name,
      uid: n.uid,
      resourceVersion: String(n.rv),
      creationTimestamp: iso(n.createdMs),
      labels: { ...n.labels },
      ...(n.annotations && Object.keys(n.annotations).length > 0 ? { annotations: { ...n.annotations } } : {}),
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/**
 * `simMs`: the model time, for the kubelet's heartbeat. MemoryPressure is the kubelet's condition
 * (the twin's kubeletMemory), and with it the taint the node lifecycle controller adds.
 */
export function renderNode(n: NodeState, simMs: number): Node {
  const memoryPressure = n.memoryPressure;
  const since = iso(n.createdMs);
  const heartbeat = iso(simMs - (simMs % 10_000));
  const cond = (type: string, status: Condition['status'], reason: string, message: string, transition = since) => ({
    type,
    status,
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: transition,
    reason,
    message,
  });
  const taints: Taint[] = [
    ...(memoryPressure ? [{ key: MEMORY_PRESSURE_TAINT, effect: 'NoSchedule' as const, timeAdded: iso(n.memoryPressureSinceMs) }] : []),
    ...(n.unschedulable ? [{ key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' as const, timeAdded: iso(n.unschedulableSinceMs) }] : []),
  ];
  const res = (r: Resources) => ({ cpu: formatCores(r.cpu), 'ephemeral-storage': '101430960Ki', memory: formatBytes(r.memory), pods: String(r.pods) });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: n.uid,
      resourceVersion: String(n.rv),
      creationTimestamp: iso(n.createdMs),
      labels: { ...n.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', ...n.annotations },
    },
    spec: {
      podCIDR: `10.244.${n.index}.0/24`,
      podCIDRs: [`10.244.${n.index}.0/24`],
      providerID: `twin://${n.name}`,
      ...(n.unschedulable ? { unschedulable: true } : {}),
      ...(taints.length > 0 ? { taints } : {}),
    },
    status: {
      capacity: res(n.capacity),
      allocatable: res(n.allocatable),
      conditions: [
        memoryPressure
          ? cond('MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', iso(n.memoryPressureSinceMs))
          : cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', iso(n.memoryPressureSinceMs)),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: n.uid,
        containerRuntimeVersion: 'containerd://1.7.22',
        kernelVersion: '6.1.0-twin',
        kubeProxyVersion: 'v1.31.0',
        kubeletVersion: 'v1.31.0',
        machineID: n.uid.replace(/-/g, ''),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: n.uid,
      },
    },
  };
}

export function renderDeployment(d: DeploymentState): Deployment {
  const core = deploymentStatusCore(d);
  const newRs = newReplicaSetOf(d);
  const since = (t: string) => iso(d.conditionSince[t] ?? d.createdMs);
  const conditions: Condition[] = [
    {
      type: 'Available',
      status: core.available ? 'True' : 'False',
      lastUpdateTime: since('Available'),
      lastTransitionTime: since('Available'),
      reason: core.available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      message: core.available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
    },
    {
      type: 'Progressing',
      status: 'True',
      lastUpdateTime: since('Progressing'),
      lastTransitionTime: since('Progressing'),
      reason: core.complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
      message: core.complete ? `ReplicaSet "${newRs?.name}" has successfully progressed.` : `ReplicaSet "${newRs?.name}" is progressing.`,
    },
  ];
  const unavailable = Math.max(0, d.replicas - core.ready);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      uid: d.uid,
      resourceVersion: String(d.rv),
      generation: d.generation,
      creationTimestamp: iso(d.createdMs),
      labels: { ...d.labels },
      annotations: { ...d.annotations, [REVISION_ANNOTATION]: String(core.revision) },
    },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { ...d.selector } },
      template: clone(d.template),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: d.generation,
      replicas: core.replicas,
      updatedReplicas: core.updated,
      readyReplicas: core.ready,
      availableReplicas: core.ready,
      ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
      conditions,
    },
  };
}

export function replicaSetStatus(rs: ReplicaSetState): ReplicaSet['status'] {
  const pods = rs.pods.size;
  const ready = readyCount(rs);
  return { replicas: pods, fullyLabeledReplicas: pods, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.generation };
}

export function templateWithHash(rs: ReplicaSetState): PodTemplateSpec {
  const t = clone(rs.template);
  t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: rs.templateHash } };
  return t;
}

export function renderReplicaSet(rs: ReplicaSetState): ReplicaSet {
  const d = rs.d;
  const template = templateWithHash(rs);
  const { maxSurge } = rollingLimits(d.replicas);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rs.name,
      namespace: rs.namespace,
      uid: rs.uid,
      resourceVersion: String(rs.rv),
      generation: rs.generation,
      creationTimestamp: iso(rs.createdMs),
      labels: { ...template.metadata!.labels },
      annotations: {
        ...rs.annotations,
        [REVISION_ANNOTATION]: String(rs.revision),
        'deployment.kubernetes.io/desired-replicas': String(d.replicas),
        'deployment.kubernetes.io/max-replicas': String(d.replicas + maxSurge),
        ...(rs.changeCause !== undefined ? { [CHANGE_CAUSE_ANNOTATION]: rs.changeCause } : {}),
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.name, uid: d.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: rs.replicas, selector: { matchLabels: { ...d.selector, [POD_TEMPLATE_HASH_LABEL]: rs.templateHash } }, template },
    status: replicaSetStatus(rs),
  };
}

/** `nowMs`: the model time, to tell a container waiting out its restart back-off from a running one. */
export function renderPod(p: PodState, nowMs = Number.POSITIVE_INFINITY): Pod {
  const rs = p.rs;
  const template = templateWithHash(rs);
  const ready = p.readySinceMs !== undefined;
  const guaranteed = template.spec.containers.every(
    (c) => c.resources?.limits && c.resources.requests && canonicalJson(c.resources.limits) === canonicalJson(c.resources.requests),
  );
  const qosClass = guaranteed ? 'Guaranteed' : template.spec.containers.some((c) => c.resources?.limits || c.resources?.requests) ? 'Burstable' : 'BestEffort';
  const metadata = {
    name: p.name,
    namespace: p.namespace,
    uid: p.uid,
    resourceVersion: String(p.rv),
    creationTimestamp: iso(p.createdMs),
    labels: { ...template.metadata!.labels, ...p.ownLabels },
    ...(template.metadata?.annotations || p.ownAnnotations ? { annotations: { ...template.metadata?.annotations, ...p.ownAnnotations } } : {}),
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name, uid: rs.uid, controller: true, blockOwnerDeletion: true }],
  };
  const restartPolicy = (template.spec['restartPolicy'] as string | undefined) ?? 'Always';
  if (!p.node || p.scheduledMs === undefined) {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata,
      spec: { ...template.spec, restartPolicy },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            lastTransitionTime: iso(p.createdMs),
            reason: 'Unschedulable',
            ...(p.schedulingMessage ? { message: p.schedulingMessage } : {}),
          },
        ],
        qosClass,
      },
    };
  }
  const started = p.scheduledMs;
  const readyCondition = (type: string): Condition => ({
    type,
    status: ready ? 'True' : 'False',
    lastTransitionTime: iso(p.readySinceMs ?? started),
    ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${template.spec.containers.map((c) => c.name).join(' ')}]` }),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: { ...template.spec, nodeName: p.node.name, restartPolicy },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(started) },
        { type: 'Initialized', status: 'True', lastTransitionTime: iso(started) },
        readyCondition('ContainersReady'),
        readyCondition('Ready'),
      ],
      hostIP: p.node.ip,
      podIP: p.ip!,
      podIPs: [{ ip: p.ip! }],
      startTime: iso(started),
      containerStatuses: template.spec.containers.map((c) => ({
        name: c.name,
        ready,
        started: true,
        restartCount: p.restartCount,
        image: c.image,
        imageID: `${c.image.split(':')[0]}@sha256:${sha256Hex(c.image)}`,
        // The first instance keeps the id it always had; each restart is a new container.
        containerID: `containerd://${sha256Hex(p.restartCount === 0 ? `${p.uid}/${c.name}` : `${p.uid}/${c.name}/${p.restartCount}`)}`,
        state:
          nowMs < p.containerStartedMs
            ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${c.name} in pod ${p.name}_${p.namespace}(${p.uid})` } }
            : { running: { startedAt: iso(Math.max(started, p.containerStartedMs)) } },
        ...(p.lastTermination
          ? { lastState: { terminated: { exitCode: p.lastTermination.exitCode, reason: p.lastTermination.reason, startedAt: iso(p.lastTermination.startedMs), finishedAt: iso(p.lastTermination.finishedMs) } } }
          : {}),
      })),
      qosClass,
    },
  };
}

export function renderEvent(e: EventState): KubeEvent {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: e.name, namespace: e.namespace, uid: e.uid, resourceVersion: String(e.rv), creationTimestamp: iso(e.firstMs) },
    involvedObject: { ...e.involved },
    reason: e.reason,
    message: e.message,
    source: { ...e.source },
    firstTimestamp: iso(e.firstMs),
    lastTimestamp: iso(e.lastMs),
    count: e.count,
    type: e.type,
    eventTime: null,
    reportingComponent: e.source.component,
    reportingInstance: e.source.host ?? '',
  };
}

export function renderConfigMap(c: ConfigMapState): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: c.name,
      namespace: c.namespace,
      uid: c.uid,
      resourceVersion: String(c.rv),
      creationTimestamp: iso(c.createdMs),
      ...(Object.keys(c.labels).length > 0 ? { labels: { ...c.labels } } : {}),
      ...(Object.keys(c.annotations).length > 0 ? { annotations: { ...c.annotations } } : {}),
    },
    ...(Object.keys(c.data).length > 0 ? { data: { ...c.data } } : {}),
    ...(c.binaryData ? { binaryData: { ...c.binaryData } } : {}),
    ...(c.immutable ? { immutable: true } : {}),
  };
}

export function renderHpa(h: HpaState): HorizontalPodAutoscaler {
  const conditions: Condition[] = [...h.conditions].map(([type, c]) => ({ type, status: c.status, lastTransitionTime: iso(c.sinceMs), reason: c.reason, message: c.message }));
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: h.name,
      namespace: h.namespace,
      uid: h.uid,
      resourceVersion: String(h.rv),
      generation: h.generation,
      creationTimestamp: iso(h.createdMs),
      ...(Object.keys(h.labels).length > 0 ? { labels: { ...h.labels } } : {}),
      ...(Object.keys(h.annotations).length > 0 ? { annotations: { ...h.annotations } } : {}),
    },
    spec: clone(h.spec),
    status: { ...clone(h.status), ...(conditions.length > 0 ? { conditions } : {}) },
  };
}
