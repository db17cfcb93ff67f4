// What the twin reads from a pod template: when two templates are "the same" (the hash the
// deployment controller names ReplicaSets by, blind to its own label and to what decoding drops), the
// config maps it reads, and the facts the performance model and the scheduler need (limits, requests,
// JVM options, node selector, a memory leak). Pure functions of the template; they must never read
// twin state.
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import { JVM_OPTIONS_ANNOTATION, MEMORY_LEAK_ANNOTATION, POD_TEMPLATE_HASH_LABEL, type PodTemplateSpec, type StringMap } from './kube-objects.ts';
import { parseJvmOptions } from './performance-model.ts';
import { parseQuantity } from './quantity.ts';
import { clone, type TemplateFacts } from './twin-state.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/**
 * Drops nulls and empty objects, as decoding into the API's typed structs does: a template that went
 * through Go (kubectl rollout undo sends `creationTimestamp: null`, `resources: {}`) is the same
 * template as the one it came from.
 */
export function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = prune(x);
    if (p === null || p === undefined) continue;
    if (typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/** The template with the controller's own label removed: what "the same template" means. */
export function withoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const c = prune(clone(t)) as PodTemplateSpec;
  c.spec ??= { containers: [] };
  if (c.metadata?.labels) {
    delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  return c;
}

export function templateHash(t: PodTemplateSpec): string {
  const hex = sha256Hex(canonicalJson(withoutHash(t)));
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}

type ContainerRefs = { envFrom?: { configMapRef?: { name?: string } }[]; env?: { valueFrom?: { configMapKeyRef?: { name?: string } } }[] };
type VolumeRefs = { configMap?: { name?: string }; projected?: { sources?: { configMap?: { name?: string } }[] } }[];

/** The config maps a template reads: volumes first, then each container's envFrom and env. */
export function configMapsOf(t: PodTemplateSpec): string[] {
  const names: string[] = [];
  const add = (n: string | undefined) => {
    if (n && !names.includes(n)) names.push(n);
  };
  for (const v of (t.spec['volumes'] as VolumeRefs | undefined) ?? []) {
    add(v.configMap?.name);
    for (const s of v.projected?.sources ?? []) add(s.configMap?.name);
  }
  for (const c of t.spec.containers as (PodTemplateSpec['spec']['containers'][number] & ContainerRefs)[]) {
    for (const e of c.envFrom ?? []) add(e.configMapRef?.name);
    for (const e of c.env ?? []) add(e.valueFrom?.configMapKeyRef?.name);
  }
  return names;
}

export function factsOf(t: PodTemplateSpec): TemplateFacts {
  const main = t.spec.containers[0];
  const limits = main?.resources?.limits ?? {};
  const requests = main?.resources?.requests ?? {};
  const memory = limits['memory'] ?? requests['memory'];
  const cpu = limits['cpu'] ?? requests['cpu'];
  const memoryLimitBytes = memory !== undefined ? parseQuantity(memory) : 2 * GiB;
  const cpuLimitCores = cpu !== undefined ? parseQuantity(cpu) : 1;
  const options = t.metadata?.annotations?.[JVM_OPTIONS_ANNOTATION];
  // A container that sets a limit and no request requests its limit (API defaulting).
  let requestCpu = 0;
  let requestMemory = 0;
  for (const c of t.spec.containers) {
    const r = { ...c.resources?.limits, ...c.resources?.requests };
    if (r['cpu'] !== undefined) requestCpu += parseQuantity(r['cpu']);
    if (r['memory'] !== undefined) requestMemory += parseQuantity(r['memory']);
  }
  const selector = t.spec['nodeSelector'] as StringMap | undefined;
  const leak = Number(t.metadata?.annotations?.[MEMORY_LEAK_ANNOTATION] ?? 0);
  return {
    leakBytesPerMs: Number.isFinite(leak) && leak > 0 ? (leak * MiB) / 60_000 : 0,
    cpuLimitCores,
    memoryLimitBytes,
    jvm: options !== undefined ? parseJvmOptions(options, memoryLimitBytes) : undefined,
    requestCpu,
    requestMemory,
    nodeSelector: selector && Object.keys(selector).length > 0 ? selector : undefined,
    configMaps: configMapsOf(t),
  };
}
