// What the twin's API server refuses before anything is stored (422 Invalid, every problem named by
// field, as the real one names them) and the defaulting it applies: object metadata, pod templates,
// config maps and HorizontalPodAutoscalers. Pure functions of what a client sent; they change nothing,
// which is what lets dry runs (?dryRun=All) call them too.
import { HPA_DEFAULTS, metricsOf, validateHpaSpec } from './hpa-algorithm.ts';
import type { HorizontalPodAutoscalerSpec, PodTemplateSpec, StringMap } from './kube-objects.ts';
import { withoutHash } from './pod-template.ts';
import { parseQuantity } from './quantity.ts';
import { TwinError, invalid, type FieldCause } from './twin-errors.ts';
import { clone } from './twin-state.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export interface ObjectInput {
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown; resourceVersion?: unknown; generateName?: unknown };
}

/** The namespace a client's object names for itself ('' when it names none). */
export const namespaceOf = (obj: unknown): string => String((obj as ObjectInput | null)?.metadata?.namespace ?? '');

function stringMap(v: unknown, field: string, causes: FieldCause[]): StringMap {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    causes.push({ field, message: 'Invalid value: must be a map of strings', reason: 'FieldValueInvalid' });
    return {};
  }
  return { ...(v as StringMap) };
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Label keys (an optional DNS-subdomain prefix, a name of at most 63 characters) and values, as the API server checks them. */
export function labelCauses(labels: StringMap, field = 'metadata.labels'): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
    const base = slash >= 0 ? k.slice(slash + 1) : k;
    if ((prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || base.length > 63 || !QUALIFIED_NAME.test(base)) {
      causes.push({ field, message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, reason: 'FieldValueInvalid' });
    }
    if (v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, reason: 'FieldValueInvalid' });
    }
  }
  return causes;
}

/** Name, labels and annotations of an object a client sends; the causes collect what is wrong with them. */
function metaOf(obj: unknown, causes: FieldCause[]): { name: string; labels: StringMap; annotations: StringMap; resourceVersion: string | undefined } {
  const m = (obj as ObjectInput | null)?.metadata;
  const name = typeof m?.name === 'string' ? m.name : '';
  if (name === '') causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      reason: 'FieldValueInvalid',
    });
  }
  return {
    name,
    labels: stringMap(m?.labels, 'metadata.labels', causes),
    annotations: stringMap(m?.annotations, 'metadata.annotations', causes),
    resourceVersion: m?.resourceVersion !== undefined && m.resourceVersion !== '' ? String(m.resourceVersion) : undefined,
  };
}

/** Refuses a template the API server would refuse; names every problem. */
export function validateTemplate(t: unknown, selector: StringMap | undefined, name: string): PodTemplateSpec {
  const causes: FieldCause[] = [];
  const tpl = t as PodTemplateSpec | undefined;
  const containers = tpl?.spec?.containers;
  if (!tpl || typeof tpl !== 'object' || !Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: 'spec.template.spec.containers', message: 'Required value', reason: 'FieldValueRequired' });
  } else {
    containers.forEach((c, i) => {
      if (!c || typeof c.name !== 'string' || c.name === '')
        causes.push({ field: `spec.template.spec.containers[${i}].name`, message: 'Required value', reason: 'FieldValueRequired' });
      if (!c || typeof c.image !== 'string' || c.image === '')
        causes.push({ field: `spec.template.spec.containers[${i}].image`, message: 'Required value', reason: 'FieldValueRequired' });
      for (const kind of ['requests', 'limits'] as const) {
        for (const [res, q] of Object.entries(c?.resources?.[kind] ?? {})) {
          try {
            parseQuantity(q);
          } catch {
            causes.push({ field: `spec.template.spec.containers[${i}].resources.${kind}[${res}]`, message: `Invalid value: "${q}"`, reason: 'FieldValueInvalid' });
          }
        }
      }
    });
    const labels = tpl.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(selector ?? {})) {
      if (labels[k] !== v) {
        causes.push({
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
          reason: 'FieldValueInvalid',
        });
        break;
      }
    }
  }
  if (causes.length > 0) throw invalid('Deployment', 'apps', name, causes);
  return withoutHash(tpl!);
}

/** A Deployment's spec.replicas: a whole number, not negative. */
export function validateReplicas(replicas: number, name: string): void {
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Deployment', 'apps', name, [{ field: 'spec.replicas', message: `Invalid value: ${replicas}: must be greater than or equal to 0`, reason: 'FieldValueInvalid' }]);
  }
}

export interface ValidConfigMap {
  name: string;
  labels: StringMap;
  annotations: StringMap;
  resourceVersion: string | undefined;
  data: StringMap;
  binaryData: StringMap | undefined;
  immutable: boolean;
}

/** Refuses a config map the API server would refuse (422), naming every problem. */
export function validateConfigMap(obj: unknown, expectName?: string): ValidConfigMap {
  const causes: FieldCause[] = [];
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new TwinError('Invalid', 'the body must be a ConfigMap object', { kind: 'ConfigMap', name: expectName ?? '' });
  const meta = metaOf(obj, causes);
  const o = obj as { data?: unknown; binaryData?: unknown; immutable?: unknown };
  const data = stringMap(o.data, 'data', causes);
  const binaryData = o.binaryData === undefined || o.binaryData === null ? undefined : stringMap(o.binaryData, 'binaryData', causes);
  let size = 0;
  for (const [field, map] of [['data', data], ['binaryData', binaryData ?? {}]] as const) {
    for (const [k, v] of Object.entries(map)) {
      size += k.length + v.length;
      if (!CONFIG_KEY.test(k) || k.length > 253 || k === '.' || k === '..') {
        causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`, reason: 'FieldValueInvalid' });
      }
      if (field === 'binaryData' && data[k] !== undefined) causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${k}": duplicate of key present in data`, reason: 'FieldValueInvalid' });
    }
  }
  if (size > 1024 * 1024) causes.push({ field: '[]', message: 'Too long: must have at most 1048576 bytes', reason: 'FieldValueTooLong' });
  if (o.immutable !== undefined && o.immutable !== null && typeof o.immutable !== 'boolean') causes.push({ field: 'immutable', message: 'Invalid value: must be a boolean', reason: 'FieldValueInvalid' });
  if (causes.length > 0) throw invalid('ConfigMap', undefined, meta.name || expectName || '', causes);
  return { ...meta, data, binaryData, immutable: o.immutable === true };
}

export interface ValidHpa {
  name: string;
  labels: StringMap;
  annotations: StringMap;
  resourceVersion: string | undefined;
  spec: HorizontalPodAutoscalerSpec;
}

/** Refuses an HPA the API server would refuse (422) and applies its defaulting. */
export function validateHpa(obj: unknown, expectName?: string): ValidHpa {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new TwinError('Invalid', 'the body must be a HorizontalPodAutoscaler object', { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', name: expectName ?? '' });
  }
  const causes: FieldCause[] = [];
  const meta = metaOf(obj, causes);
  const spec = (obj as { spec?: unknown }).spec;
  causes.push(...validateHpaSpec(spec));
  if (causes.length > 0) throw invalid('HorizontalPodAutoscaler', 'autoscaling', meta.name || expectName || '', causes);
  // The API server's defaulting: minReplicas 1, CPU at 80% when no metric is named.
  const s = clone(spec) as HorizontalPodAutoscalerSpec;
  s.minReplicas ??= HPA_DEFAULTS.minReplicas;
  s.metrics = metricsOf(s);
  return { ...meta, spec: s };
}
