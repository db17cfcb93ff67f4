// The seed incident (DESIGN §6) as a cluster-twin state: tenant acme's checkout service, 47 minutes
// after revision 2 changed its JVM heap settings, at the moment three of its eight pods tip into a GC
// death spiral. It only builds state; the story then unfolds by itself in the twin's model, and
// must never be scripted on a timeline (no "at t=90 s set p99 to ...") — actions have to be able to
// change the ending.
//
// The numbers, for the default seed (the tests assert them; see test/twin/jvm-heap-regression.test.ts):
// - acme-prod runs 40 pods of one size (500m/2Gi requests): checkout 8, cart 8, catalog 10,
//   payments 6, search 8. +4 checkout pods is a 10% capacity change.
// - Revision 1 of checkout: -XX:MaxRAMPercentage=70 -XX:NewRatio=2 (heap 70% of the container,
//   young generation a third of it). Revision 2, 47 min before the start: MaxRAMPercentage=90,
//   NewRatio=8 — more heap, but a young generation so small that request-scoped objects get promoted.
// - On 3 of 8 pods (the ones whose traffic allocates most) the old generation has crept to 71% of
//   the container's memory and is past the point where the collector keeps up: memory climbs to
//   ~94% and GC pause time to ~4.4x (+340%) of the healthy pods' within ~3 minutes.
// - p99 208 ms at the start, 387 ms at 60 s, crosses the 500 ms SLO at 70 s (incidentStartMs,
//   computed below by running the same cluster undisturbed; 60-70 s for other seeds), ~1,230 ms from
//   2 min on (1,230 at 3 min), and stays there.
// - Scaling to 12 at 90 s (fresh heaps, a third less load per pod): ~600 ms once the new pods are
//   ready 30 s later, and it stays there — relief, not a cure: the three pods stay sick. Rolling back
//   to revision 1 at 90 s: under the SLO 60 s later (two waves of 30 s starts), ~180 ms after.
// scenarios/jvm-heap-regression.json is the same story as a scenario file (the `jvm_heap_regression`
// fault of scenario-builder.ts); a test holds the two to the same pods and the same p99, second by second.
import type { Clock } from '../../core/clock.ts';
import { ClusterTwin } from '../cluster-twin.ts';
import { JVM_OPTIONS_ANNOTATION, type PodTemplateSpec } from '../kube-objects.ts';
import { Prng, deriveSeed } from '../prng.ts';

export const JVM_HEAP_REGRESSION = {
  tenant: 'acme',
  namespace: 'acme-prod',
  deployment: 'checkout',
  sloP99Ms: 500,
  /** When revision 2 was rolled out, relative to the scenario's start. */
  revision2AgeMs: 47 * 60_000,
  /** Checkout's share of acme-prod: 1,600 requests/s over 8 pods. */
  checkoutRps: 1_600,
  /** The three pods' starting point: old generation at 71% of the container. */
  sickMemoryUtilisation: 0.71,
  /** How much more their traffic allocates than the average pod's (sticky sessions with big carts). */
  sickAllocationSkew: 1.4,
  sickPods: 3,
} as const;

export const DEFAULT_SEED = 20261124;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const HEALTHY_JVM = '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2 -XX:+ExitOnOutOfMemoryError';
const REGRESSED_JVM = '-XX:+UseG1GC -XX:MaxRAMPercentage=90 -XX:NewRatio=8 -XX:+ExitOnOutOfMemoryError';

/** A JVM service container of the size every acme pod has. */
export function jvmTemplate(name: string, image: string, jvmOptions: string): PodTemplateSpec {
  return {
    metadata: {
      labels: { app: name, 'governor.io/tenant': 'acme' },
      annotations: { [JVM_OPTIONS_ANNOTATION]: jvmOptions, 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9404' },
    },
    spec: {
      containers: [
        {
          name,
          image,
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: jvmOptions }],
          resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
        },
      ],
    },
  };
}

export interface JvmHeapRegression {
  twin: ClusterTwin;
  tenant: 'acme';
  namespace: 'acme-prod';
  deployment: 'checkout';
  sloP99Ms: number;
  /** When p99 first exceeds the SLO if nothing is done (on the twin's 1 s grid). */
  incidentStartMs: number;
  /** The pods whose heaps tip. */
  sickPods: string[];
  /** Revision 1's template (what a rollback applies). */
  goodTemplate: PodTemplateSpec;
}

/**
 * Builds acme's and globex's namespaces. With `regression`, checkout's revision 2 carries the bad heap
 * settings and three pods are on the edge; without, revision 2 is a harmless release (the steady-state
 * scenario: the same cluster, nothing wrong).
 */
export function populateAcme(twin: ClusterTwin, start: number, seed: number, regression = true): string[] {
  const s = JVM_HEAP_REGRESSION;
  twin.addNamespace(
    s.namespace,
    { 'governor.io/tenant': s.tenant, 'governor.io/environment': 'production', 'governor.io/tier': 'enterprise' },
    start - 400 * DAY,
  );
  twin.addNamespace('globex-prod', { 'governor.io/tenant': 'globex', 'governor.io/environment': 'production', 'governor.io/tier': 'standard' }, start - 200 * DAY);
  twin.addNamespace('kube-system', {}, start - 500 * DAY);

  const image = (svc: string, v: string) => `registry.acme.example/${svc}:${v}`;
  const neighbours: [string, number, string][] = [
    ['cart', 8, '3.8.2'],
    ['catalog', 10, '7.1.0'],
    ['payments', 6, '2.19.4'],
    ['search', 8, '5.0.11'],
  ];
  twin.addDeployment({
    namespace: s.namespace,
    name: s.deployment,
    replicas: 8,
    rps: s.checkoutRps,
    labels: { 'governor.io/tenant': s.tenant, tier: 'web' },
    revisions: [
      { template: jvmTemplate('checkout', image('checkout', '4.12.0'), HEALTHY_JVM), changeCause: 'release 4.12.0', createdAtMs: start - 3 * DAY },
      regression
        ? {
            template: jvmTemplate('checkout', image('checkout', '4.12.0'), REGRESSED_JVM),
            changeCause: 'JVM heap tuning: MaxRAMPercentage 70 -> 90, NewRatio 2 -> 8 (CHG-4821)',
            createdAtMs: start - s.revision2AgeMs,
          }
        : { template: jvmTemplate('checkout', image('checkout', '4.12.1'), HEALTHY_JVM), changeCause: 'release 4.12.1', createdAtMs: start - s.revision2AgeMs },
    ],
  });
  for (const [name, replicas, version] of neighbours) {
    twin.addDeployment({
      namespace: s.namespace,
      name,
      replicas,
      rps: replicas * 170,
      labels: { 'governor.io/tenant': s.tenant },
      revisions: [{ template: jvmTemplate(name, image(name, version), HEALTHY_JVM), changeCause: `release ${version}`, createdAtMs: start - 9 * DAY }],
    });
  }
  // A co-tenant, so that isolation and "no co-tenant impact" have something to be about.
  for (const [name, replicas] of [['storefront', 6], ['inventory', 4]] as const) {
    const t = jvmTemplate(name, `registry.globex.example/${name}:1.4.0`, HEALTHY_JVM);
    t.metadata!.labels!['governor.io/tenant'] = 'globex';
    twin.addDeployment({ namespace: 'globex-prod', name, replicas, rps: replicas * 120, labels: { 'governor.io/tenant': 'globex' }, revisions: [{ template: t, changeCause: 'release 1.4.0', createdAtMs: start - 20 * DAY }] });
  }

  if (!regression) return [];
  // Which three pods carry the heaviest sessions is the seed's choice; what happens to them is not.
  const pods = twin.listPods(s.namespace, `app=${s.deployment}`).map((p) => p.metadata.name);
  const pick = new Prng(deriveSeed(seed, 'sick-pods'));
  const sick: string[] = [];
  while (sick.length < s.sickPods) {
    const p = pods[Math.floor(pick.next() * pods.length)]!;
    if (!sick.includes(p)) sick.push(p);
  }
  // memory = non-heap 6% + young 10% + old 80% × fill (revision 2's layout)
  const fill = (s.sickMemoryUtilisation - 0.06 - 0.1) / 0.8;
  // Not quite identical sessions, so the three tip a few seconds apart rather than in lockstep.
  sick.forEach((p, i) => twin.tunePod(s.namespace, p, { fill, allocationSkew: s.sickAllocationSkew + (i - 1) * 0.03 }));
  return sick;
}

/** A clock that only moves when told to: for the look-ahead run, which must not touch the caller's clock. */
function manualClock(t: number): Clock & { set(ms: number): void } {
  let now = t;
  return {
    now: () => now,
    set: (ms: number) => void (now = ms),
    setTimer: () => () => {},
    sleep: () => Promise.resolve(),
  };
}

export function buildJvmHeapRegression(
  clock: Clock,
  opts: { seed?: number } = {},
): JvmHeapRegression {
  const seed = opts.seed ?? DEFAULT_SEED;
  const start = clock.now();
  const twin = new ClusterTwin(clock, { seed });
  const sickPods = populateAcme(twin, start, seed);

  // incidentStartMs: run an identical twin undisturbed, second by second, until p99 crosses the SLO.
  const look = manualClock(start);
  const shadow = new ClusterTwin(look, { seed });
  populateAcme(shadow, start, seed);
  let incidentStartMs = start + 30 * MINUTE;
  for (let t = start + 1000; t <= start + 30 * MINUTE; t += 1000) {
    look.set(t);
    if (shadow.serviceMetrics(JVM_HEAP_REGRESSION.namespace, JVM_HEAP_REGRESSION.deployment).p99_ms > JVM_HEAP_REGRESSION.sloP99Ms) {
      incidentStartMs = t;
      break;
    }
  }

  return {
    twin,
    tenant: 'acme',
    namespace: 'acme-prod',
    deployment: 'checkout',
    sloP99Ms: JVM_HEAP_REGRESSION.sloP99Ms,
    incidentStartMs,
    sickPods,
    goodTemplate: twin.templateOfRevision('acme-prod', 'checkout', 1)!,
  };
}
