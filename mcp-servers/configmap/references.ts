// Which config maps a pod template reads, and how: the facts behind "which services does this
// config change touch" and "may this key be removed". Pure functions over a pod template as the
// Kubernetes API returns it. They must never guess: a reference the template does not spell out is
// not reported, and a reference that names a key is kept apart from one that takes the whole map.
import type { V1PodTemplateSpec } from '@kubernetes/client-node';

export interface ConfigUse {
  /** The pod template takes every key of the map (envFrom, or a volume without `items`). */
  wholesale: boolean;
  /** Keys the template names (env valueFrom.configMapKeyRef.key, volume items[].key), sorted. */
  keys: string[];
  /** Where the references are, for an operator to read: `envFrom`, `env:VAR`, `volume:NAME`. */
  via: string[];
}

interface Acc {
  wholesale: boolean;
  keys: Set<string>;
  via: string[];
}

/**
 * The config maps a template reads, by name: its volumes (plain and projected), then every
 * container's and init container's envFrom and env — the places kubelet resolves config maps from.
 */
export function configUsesOf(template: V1PodTemplateSpec | undefined): Map<string, ConfigUse> {
  const acc = new Map<string, Acc>();
  const use = (name: string | undefined): Acc | undefined => {
    if (!name) return undefined;
    let a = acc.get(name);
    if (!a) acc.set(name, (a = { wholesale: false, keys: new Set(), via: [] }));
    return a;
  };
  const spec = template?.spec;
  for (const v of spec?.volumes ?? []) {
    const direct = use(v.configMap?.name);
    if (direct) {
      direct.via.push(`volume:${v.name}`);
      if (v.configMap?.items?.length) for (const i of v.configMap.items) direct.keys.add(i.key);
      else direct.wholesale = true;
    }
    for (const s of v.projected?.sources ?? []) {
      const projected = use(s.configMap?.name);
      if (!projected) continue;
      projected.via.push(`volume:${v.name}`);
      if (s.configMap?.items?.length) for (const i of s.configMap.items) projected.keys.add(i.key);
      else projected.wholesale = true;
    }
  }
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      const a = use(e.configMapRef?.name);
      if (!a) continue;
      a.wholesale = true;
      if (!a.via.includes('envFrom')) a.via.push('envFrom');
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.configMapKeyRef;
      const a = use(ref?.name);
      if (!a || !ref) continue;
      a.keys.add(ref.key);
      a.via.push(`env:${e.name}`);
    }
  }
  const out = new Map<string, ConfigUse>();
  for (const [name, a] of acc) out.set(name, { wholesale: a.wholesale, keys: [...a.keys].sort(), via: [...new Set(a.via)] });
  return out;
}

export interface DeploymentLike {
  metadata?: { name?: string };
  spec?: { template?: V1PodTemplateSpec; paused?: boolean };
}

export interface ConfigReference {
  deployment: string;
  wholesale: boolean;
  keys: string[];
  via: string[];
}

/** The deployments (of one namespace) whose pod templates read config map `name`, sorted by name. */
export function referencesTo(name: string, deployments: readonly DeploymentLike[]): ConfigReference[] {
  const out: ConfigReference[] = [];
  for (const d of deployments) {
    const u = configUsesOf(d.spec?.template).get(name);
    if (u && d.metadata?.name) out.push({ deployment: d.metadata.name, ...u });
  }
  return out.sort((a, b) => a.deployment.localeCompare(b.deployment));
}

/**
 * Keys an update would remove that a pod template names explicitly. Removing one of those breaks
 * the next start of every pod that names it (kubelet refuses a missing non-optional key:
 * CreateContainerConfigError), which is the destructive change this server refuses. A key only
 * taken wholesale (envFrom, a whole-map volume) may go: those consumers enumerate what is there,
 * and a revert that removes a key a bad push added is exactly how that push is undone.
 */
export function referencedKeysRemoved(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  references: readonly ConfigReference[],
): Array<{ key: string; deployments: string[] }> {
  const removed = Object.keys(before).filter((k) => !(k in after)).sort();
  const out: Array<{ key: string; deployments: string[] }> = [];
  for (const key of removed) {
    const deployments = references.filter((r) => r.keys.includes(key)).map((r) => r.deployment);
    if (deployments.length > 0) out.push({ key, deployments });
  }
  return out;
}
