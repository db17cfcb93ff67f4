// The Kubernetes object shapes the cluster twin hands out: the JSON a real API server returns for
// the resources the twin serves (core/v1 Namespace and Pod, apps/v1 Deployment and ReplicaSet),
// typed as much as the twin and its callers need. Plain data only: no behaviour, no client types,
// so the twin stays independent of any client library.

export type StringMap = Record<string, string>;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generation?: number;
  labels?: StringMap;
  annotations?: StringMap;
  ownerReferences?: OwnerReference[];
}

export interface EnvVar {
  name: string;
  value?: string;
}

export interface Container {
  name: string;
  image: string;
  resources?: { requests?: StringMap; limits?: StringMap };
  env?: EnvVar[];
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: { labels?: StringMap; annotations?: StringMap; [field: string]: unknown };
  spec: PodSpec;
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
  spec: { finalizers: string[] };
  status: { phase: 'Active' };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  reason?: string;
  message?: string;
}

export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: { matchLabels: StringMap };
    template: PodTemplateSpec;
    strategy: { type: 'RollingUpdate'; rollingUpdate: { maxSurge: string; maxUnavailable: string } };
    revisionHistoryLimit: number;
    progressDeadlineSeconds: number;
    minReadySeconds?: number;
    paused?: boolean;
  };
  status: {
    observedGeneration: number;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    unavailableReplicas?: number;
    conditions: Condition[];
  };
}

export interface ReplicaSet {
  apiVersion: 'apps/v1';
  kind: 'ReplicaSet';
  metadata: ObjectMeta;
  spec: { replicas: number; selector: { matchLabels: StringMap }; template: PodTemplateSpec };
  status: {
    replicas: number;
    fullyLabeledReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    observedGeneration: number;
  };
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID: string;
  state: { running: { startedAt: string } };
}

export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec & { nodeName: string; restartPolicy: string };
  status: {
    phase: 'Running';
    conditions: Condition[];
    hostIP: string;
    podIP: string;
    podIPs: { ip: string }[];
    startTime: string;
    containerStatuses: ContainerStatus[];
    qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort';
  };
}

/** The annotations Kubernetes' deployment controller and kubectl use for rollout history. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Where the twin reads a container's JVM options from (the pod template's annotations). */
export const JVM_OPTIONS_ANNOTATION = 'governor.io/jvm-options';
