// Server-side printing: the meta.k8s.io/v1 Table form of the twin's objects, which kubectl asks for
// (`Accept: application/json;as=Table;...`) to print `kubectl get` the way a real cluster does
// (READY, UP-TO-DATE, AVAILABLE, AGE, ...). Presentation only: never a source of truth for anything.
import type { Deployment, Namespace, ObjectMeta, Pod, ReplicaSet } from './kube-objects.ts';

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

type Kind = 'deployments' | 'pods' | 'replicasets' | 'namespaces';

const COLUMNS: Record<Kind, Column[]> = {
  deployments: [col('Name', 'string', 0, 'name'), col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Age'), col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
  pods: [col('Name', 'string', 0, 'name'), col('Ready'), col('Status'), col('Restarts'), col('Age'), col('IP', 'string', 1), col('Node', 'string', 1)],
  replicasets: [col('Name', 'string', 0, 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Age'), col('Containers', 'string', 1), col('Images', 'string', 1)],
  namespaces: [col('Name', 'string', 0, 'name'), col('Status'), col('Age')],
};

type Row = (string | number)[];

function cells(kind: Kind, o: Deployment | Pod | ReplicaSet | Namespace, nowMs: number): Row {
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
      const ready = p.status.containerStatuses.filter((s) => s.ready).length;
      return [p.metadata.name, `${ready}/${p.status.containerStatuses.length}`, p.status.phase, '0', age, p.status.podIP, p.spec.nodeName];
    }
    case 'replicasets': {
      const r = o as ReplicaSet;
      const c = r.spec.template.spec.containers;
      return [r.metadata.name, r.spec.replicas, r.status.replicas, r.status.readyReplicas, age, c.map((x) => x.name).join(','), c.map((x) => x.image).join(',')];
    }
    case 'namespaces':
      return [o.metadata.name, 'Active', age];
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
  objects: (Deployment | Pod | ReplicaSet | Namespace)[],
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
