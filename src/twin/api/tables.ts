// Server-side printing: the meta.k8s.io/v1 Table form of the twin's objects, which kubectl asks for
// (`Accept: application/json;as=Table;...`) to print `kubectl get` the way a real cluster does
// (READY, UP-TO-DATE, AVAILABLE, AGE, ...). Presentation only: never a source of truth for anything.
import type { ConfigMap, Deployment, HorizontalPodAutoscaler, KubeEvent, MetricSpec, MetricStatus, Namespace, Node, ObjectMeta, Pod, ReplicaSet } from '../kube-objects.ts';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, type: Column['type'] = 'string', priority = 0, format = ''): Column => ({ name, type, format, description: name, priority });

/** Kubernetes' HumanDuration, as in the AGE column. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

export type TableKind = 'deployments' | 'pods' | 'replicasets' | 'namespaces' | 'nodes' | 'events' | 'configmaps' | 'horizontalpodautoscalers';
type Kind = TableKind;
type Printable = Deployment | Pod | ReplicaSet | Namespace | Node | KubeEvent | ConfigMap | HorizontalPodAutoscaler;

const COLUMNS: Record<Kind, Column[]> = {
  deployments: [col('Name', 'string', 0, 'name'), col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Age'), col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
  pods: [col('Name', 'string', 0, 'name'), col('Ready'), col('Status'), col('Restarts'), col('Age'), col('IP', 'string', 1), col('Node', 'string', 1)],
  replicasets: [col('Name', 'string', 0, 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Age'), col('Containers', 'string', 1), col('Images', 'string', 1)],
  namespaces: [col('Name', 'string', 0, 'name'), col('Status'), col('Age')],
  nodes: [
    col('Name', 'string', 0, 'name'),
    col('Status'),
    col('Roles'),
    col('Age'),
    col('Version'),
    col('Internal-IP', 'string', 1),
    col('External-IP', 'string', 1),
    col('OS-Image', 'string', 1),
    col('Kernel-Version', 'string', 1),
    col('Container-Runtime', 'string', 1),
  ],
  events: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', 1),
    col('Source', 'string', 1),
    col('Message'),
    col('First Seen', 'string', 1),
    col('Count', 'string', 1),
    col('Name', 'string', 1, 'name'),
  ],
  configmaps: [col('Name', 'string', 0, 'name'), col('Data', 'integer'), col('Age')],
  horizontalpodautoscalers: [
    col('Name', 'string', 0, 'name'),
    col('Reference'),
    col('Targets'),
    col('MinPods', 'string'),
    col('MaxPods', 'integer'),
    col('Replicas', 'integer'),
    col('Age'),
  ],
};

/** The TARGETS column of an HPA: "cpu: 85%/70%", "<unknown>" before the first sync. */
function hpaTargets(spec: MetricSpec[], current: MetricStatus[] | undefined): string {
  const parts = spec.map((m) => {
    const c = current?.find(
      (x) =>
        x.type === m.type &&
        (x.resource?.name === m.resource?.name || x.pods?.metric.name === m.pods?.metric.name || x.object?.metric.name === m.object?.metric.name),
    );
    switch (m.type) {
      case 'Resource': {
        const t = m.resource!.target;
        const cur = c?.resource?.current;
        if (t.type === 'Utilization') return `${m.resource!.name}: ${cur?.averageUtilization ?? '<unknown>'}${cur ? '%' : ''}/${t.averageUtilization}%`;
        return `${m.resource!.name}: ${cur?.averageValue ?? '<unknown>'}/${t.averageValue ?? t.value}`;
      }
      case 'Pods':
        return `${c?.pods?.current.averageValue ?? '<unknown>'}/${m.pods!.target.averageValue}`;
      case 'Object': {
        const t = m.object!.target;
        const cur = c?.object?.current;
        return t.type === 'AverageValue' ? `${cur?.averageValue ?? '<unknown>'}/${t.averageValue} (avg)` : `${cur?.value ?? '<unknown>'}/${t.value}`;
      }
      default:
        return '<unknown>/<unknown>';
    }
  });
  return parts.length > 0 ? parts.join(', ') : '<none>';
}

type Row = (string | number)[];

function cells(kind: Kind, o: Printable, nowMs: number): Row {
  const age = humanDuration(nowMs - Date.parse(o.metadata.creationTimestamp));
  switch (kind) {
    case 'deployments': {
      const d = o as Deployment;
      const c = d.spec.template.spec.containers;
      const sel = Object.entries(d.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
      return [d.metadata.name, `${d.status.readyReplicas}/${d.spec.replicas}`, d.status.updatedReplicas, d.status.availableReplicas, age, c.map((x) => x.name).join(','), c.map((x) => x.image).join(','), sel];
    }
    case 'pods': {
      const p = o as Pod;
      const ready = (p.status.containerStatuses ?? []).filter((s) => s.ready).length;
      const statuses = p.status.containerStatuses ?? [];
      const restarts = statuses.reduce((n, s) => n + s.restartCount, 0);
      const waiting = statuses.map((s) => ('waiting' in s.state ? s.state.waiting.reason : undefined)).find((r) => r !== undefined);
      // kubectl shows the pod's reason (Evicted) or a waiting container's (CrashLoopBackOff) over the phase.
      const status = p.status.reason ?? waiting ?? p.status.phase;
      return [p.metadata.name, `${ready}/${p.spec.containers.length}`, status, String(restarts), age, p.status.podIP ?? '<none>', p.spec.nodeName ?? '<none>'];
    }
    case 'replicasets': {
      const r = o as ReplicaSet;
      const c = r.spec.template.spec.containers;
      return [r.metadata.name, r.spec.replicas, r.status.replicas, r.status.readyReplicas, age, c.map((x) => x.name).join(','), c.map((x) => x.image).join(',')];
    }
    case 'namespaces':
      return [o.metadata.name, 'Active', age];
    case 'nodes': {
      const n = o as Node;
      const ready = n.status.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady';
      const roles = Object.keys(n.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length));
      const ip = (type: string) => n.status.addresses.find((a) => a.type === type)?.address ?? '<none>';
      return [
        n.metadata.name,
        n.spec.unschedulable ? `${ready},SchedulingDisabled` : ready,
        roles.length > 0 ? roles.join(',') : '<none>',
        age,
        n.status.nodeInfo['kubeletVersion'] ?? '',
        ip('InternalIP'),
        ip('ExternalIP'),
        n.status.nodeInfo['osImage'] ?? '',
        n.status.nodeInfo['kernelVersion'] ?? '',
        n.status.nodeInfo['containerRuntimeVersion'] ?? '',
      ];
    }
    case 'events': {
      const e = o as KubeEvent;
      const first = humanDuration(nowMs - Date.parse(e.firstTimestamp));
      const last = humanDuration(nowMs - Date.parse(e.lastTimestamp));
      return [
        e.count > 1 ? `${last} (x${e.count} over ${first})` : last,
        e.type,
        e.reason,
        `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}`,
        e.involvedObject.fieldPath ?? '',
        e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component,
        e.message,
        first,
        String(e.count),
        e.metadata.name,
      ];
    }
    case 'configmaps': {
      const c = o as ConfigMap;
      return [c.metadata.name, Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, age];
    }
    case 'horizontalpodautoscalers': {
      const h = o as HorizontalPodAutoscaler;
      const ref = h.spec.scaleTargetRef;
      return [
        h.metadata.name,
        `${ref.kind}/${ref.name}`,
        hpaTargets(h.spec.metrics ?? [], h.status.currentMetrics),
        h.spec.minReplicas !== undefined ? String(h.spec.minReplicas) : '<unset>',
        h.spec.maxReplicas,
        h.status.currentReplicas,
        age,
      ];
    }
  }
}

function partial(meta: ObjectMeta) {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta };
}

export function isTableKind(resource: string): resource is Kind {
  return resource in COLUMNS;
}

/** The Table of some objects; `includeObject` as the request asked (Metadata by default, as the API server). */
export function toTable(
  kind: Kind,
  objects: Printable[],
  opts: { nowMs: number; resourceVersion: string; includeObject: string | null },
) {
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: opts.resourceVersion },
    columnDefinitions: COLUMNS[kind],
    rows: objects.map((o) => ({
      cells: cells(kind, o, opts.nowMs),
      ...(include === 'None' ? {} : { object: include === 'Object' ? o : partial(o.metadata) }),
    })),
  };
}

/** Does the Accept header ask for a Table (kubectl get does; client libraries do not)? */
export const wantsTable = (accept: string | undefined): boolean => /as=Table/.test(accept ?? '');
