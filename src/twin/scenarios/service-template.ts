// The pod template of a scenario's service: how every service in the twin's stories is packaged —
// one container with an http port, its requests and limits, JVM options (when it is a JVM) both as
// JAVA_TOOL_OPTIONS and as the annotation the twin's performance model reads, Prometheus scrape
// annotations, the config map it reads (all of it through envFrom, or single keys into environment
// variables) and a node selector. The scenario builder makes every template with it, and so do the
// twin's own tests when they set up a cluster by hand. Pure: it builds a value and reads nothing.
import { JVM_OPTIONS_ANNOTATION, type Container, type EnvVar, type PodTemplateSpec, type StringMap } from '../kube-objects.ts';

type Quantity = string | number;

export interface ServiceTemplateSpec {
  tenant: string;
  /** The service (and its container, and its `app` label). */
  name: string;
  image: string;
  /** JVM options; null or absent: not a JVM, no garbage collector in the model. */
  jvmOptions?: string | null | undefined;
  /** Absent: one JVM pod size, 500m and 2Gi requested, 1 core and 2Gi the limit (every pod of the seed incident). */
  resources?: { requests: { cpu: Quantity; memory: Quantity }; limits: { cpu: Quantity; memory: Quantity } } | undefined;
  /** The config map the service reads: all of it (envFrom), or single keys as environment variables (name → key). */
  config?: { configMap: string; env?: Readonly<Record<string, string>> | undefined } | undefined;
  nodeSelector?: StringMap | undefined;
  /** More pod annotations (a memory leak, for one). */
  annotations?: StringMap | undefined;
}

const JVM_POD = { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } };

export function serviceTemplate(s: ServiceTemplateSpec): PodTemplateSpec {
  const jvm = s.jvmOptions ?? undefined;
  const r = s.resources ?? JVM_POD;
  const keys: EnvVar[] = Object.entries(s.config?.env ?? {}).map(([name, key]) => ({ name, valueFrom: { configMapKeyRef: { name: s.config!.configMap, key } } }));
  const env: EnvVar[] = [...(jvm !== undefined ? [{ name: 'JAVA_TOOL_OPTIONS', value: jvm }] : []), ...keys];
  const container: Container = {
    name: s.name,
    image: s.image,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    ...(env.length > 0 ? { env } : {}),
    ...(s.config && !s.config.env ? { envFrom: [{ configMapRef: { name: s.config.configMap } }] } : {}),
    resources: {
      requests: { cpu: String(r.requests.cpu), memory: String(r.requests.memory) },
      limits: { cpu: String(r.limits.cpu), memory: String(r.limits.memory) },
    },
  };
  return {
    metadata: {
      labels: { app: s.name, 'governor.io/tenant': s.tenant },
      annotations: {
        ...(jvm !== undefined ? { [JVM_OPTIONS_ANNOTATION]: jvm } : {}),
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': jvm !== undefined ? '9404' : '8080',
        ...s.annotations,
      },
    },
    spec: { containers: [container], ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}) },
  };
}
