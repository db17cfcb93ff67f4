// The scenario file format (scenarios/*.json at the repository root, and the tests' fixtures in
// test/fixtures/scenarios/): the cluster, the tenants with their namespaces, deployments, load and
// governance data, the faults that set the story in motion, and the outcome expected of Governor.
// Validation only: a bad file is refused with every problem named by file and field, never
// half-read. It must never build a twin or read a clock; that is scenario-builder.ts's job.
//
// Faults are causes, never a metric timeline: a rollout with bad JVM options, users arriving, a leak
// annotation on a new revision, a config key changed, a neighbour's batch queue filling up, a node
// daemon leaking memory. What latency does next is the twin's model, so Governor's actions can change
// the ending.
import { z } from 'zod';
import { GovernorError } from '../../core/errors.ts';
import { FreezeWindow } from '../../governance/freeze-windows.ts';
import { ReservedInstances } from '../../governance/tenants.ts';
import { TRACE_FILES } from '../traces.ts';
import { CONFIG_EFFECTS, FLAGS_FILE_KEY, flagsOf } from './config-effects.ts';

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS label (a-z, 0-9, -)');
const quantity = z.union([z.string().min(1), z.number().positive()]);
const stringMap = z.record(z.string(), z.string());

export const LoadSpec = z.union([
  z.number().nonnegative().describe('a constant rate in requests per second'),
  z.object({ constant: z.number().nonnegative() }).strict(),
  z
    .object({
      diurnal: z
        .object({
          mean_rps: z.number().positive(),
          /** ± this fraction of the mean around it over the day. */
          amplitude: z.number().min(0).max(1),
          peak_hour_utc: z.number().min(0).max(24).optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      trace: z
        .object({
          name: z.enum(Object.keys(TRACE_FILES) as [keyof typeof TRACE_FILES, ...(keyof typeof TRACE_FILES)[]]),
          /** Trace time that plays at the scenario's start (ISO 8601); default the trace's start. */
          from: z.string().datetime({ offset: true }).optional(),
          shift_hours: z.number().optional(),
          peak_rps: z.number().positive().optional(),
          mean_rps: z.number().positive().optional(),
          factor: z.number().positive().optional(),
        })
        .strict()
        .refine((t) => [t.peak_rps, t.mean_rps, t.factor].filter((x) => x !== undefined).length === 1, {
          message: 'give exactly one of peak_rps, mean_rps, factor',
        }),
    })
    .strict(),
]);
export type LoadSpec = z.infer<typeof LoadSpec>;

export const RevisionSpec = z
  .object({
    /** Minutes before the scenario's start that this revision was rolled out. */
    age_min: z.number().nonnegative(),
    change_cause: z.string().optional(),
    image: z.string().min(1),
    /** JVM options of this revision; absent: the deployment's `jvm_options`. */
    jvm_options: z.string().optional(),
  })
  .strict();

export const WorkloadSpec = z
  .object({
    base_latency_ms: z.number().positive(),
    latency_sigma: z.number().positive(),
    rps_per_core: z.number().positive(),
    ref_rps_per_pod: z.number().positive(),
    live_set_of_limit: z.number().min(0).max(1),
    non_heap_of_limit: z.number().min(0).max(1),
    background_cpu_cores: z.number().nonnegative(),
    /** Cores one request's work runs on at once; above the CPU limit the pod is CFS-throttled (performance-model.ts). */
    burst_cores: z.number().positive(),
  })
  .strict()
  .partial();

export const DeploymentSpec = z
  .object({
    name,
    replicas: z.number().int().nonnegative(),
    resources: z
      .object({
        requests: z.object({ cpu: quantity, memory: quantity }).strict(),
        limits: z.object({ cpu: quantity, memory: quantity }).strict(),
      })
      .strict(),
    /** JVM options (a JVM service); null or absent: not a JVM, no garbage collector in the model. */
    jvm_options: z.string().nullable().optional(),
    /** Rollout history, oldest first; the last one runs. */
    revisions: z.array(RevisionSpec).min(1),
    labels: stringMap.optional(),
    node_selector: stringMap.optional(),
    load: LoadSpec,
    workload: WorkloadSpec.optional(),
    /** The service's p99 objective; absent: the tenant's. */
    slo_p99_ms: z.number().positive().optional(),
    /** Whether Watchtower watches this service (it is then a target the demo scores). */
    watch: z.boolean().default(false),
    /** The config map the service reads and what its keys do to it (a named effect; absent: nothing the model sees). */
    config: z
      .object({
        config_map: name,
        /** Single keys as environment variables (name → key, env valueFrom); absent: the whole map (envFrom). */
        env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string().min(1)).optional(),
        effect: z.string().min(1).optional(),
        params: z.record(z.string(), z.number()).default({}),
        /** For the `feature-flag` effect: the flagd flag (in the map's flags.flagd.json) whose "on" costs the service. */
        flag: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;

export const NamespaceSpec = z
  .object({
    name,
    created_days_ago: z.number().nonnegative().default(100),
    config_maps: z.array(z.object({ name, labels: stringMap.optional(), data: stringMap }).strict()).default([]),
    deployments: z.array(DeploymentSpec).default([]),
  })
  .strict();

/** What the gateway needs about a tenant (config/tenants.json), minus what the scenario already says. */
export const GovernanceSpec = z
  .object({
    max_replicas: z.number().int().positive(),
    monthly_budget_usd: z.number().nonnegative(),
    month_to_date_usd: z.number().nonnegative(),
    slo: z.object({ p99_latency_ms: z.number().positive() }).strict(),
    burn_rate: z.number().nonnegative(),
    pod_monthly_cost_usd: z.number().nonnegative(),
    reserved_instances: ReservedInstances.optional(),
    freezes: z.array(FreezeWindow).optional(),
    approvers: z.array(z.string()).optional(),
  })
  .strict();

export const TenantScenarioSpec = z
  .object({
    id: name,
    tier: z.enum(['free', 'standard', 'premium', 'enterprise']),
    environment: z.enum(['production', 'staging', 'development']),
    governance: GovernanceSpec,
    namespaces: z.array(NamespaceSpec).min(1),
  })
  .strict();
export type TenantScenarioSpec = z.infer<typeof TenantScenarioSpec>;

export const NodePoolSpec = z
  .object({
    pool: name,
    /** How many nodes, named `<pool>-01`, `<pool>-02`, …; or `names`, the nodes' own names. */
    count: z.number().int().positive().optional(),
    names: z.array(name).min(1).optional(),
    cpu: quantity,
    memory: quantity,
    allocatable: z.object({ cpu: quantity, memory: quantity }).strict().optional(),
    labels: stringMap.optional(),
    /** When the pool joins the cluster, seconds from the start (the cluster autoscaler adding nodes); 0: once the deployments are placed; absent: from the beginning. */
    added_at_s: z.number().nonnegative().optional(),
  })
  .strict()
  .refine((p) => (p.count === undefined) !== (p.names === undefined), { message: 'give exactly one of count, names' });
export type NodePoolSpec = z.infer<typeof NodePoolSpec>;

/** "namespace/deployment" */
const workloadRef = z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'must be "namespace/deployment"');

export const FaultSpec = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('jvm_heap_regression'),
      target: workloadRef,
      /** When the regressed revision was rolled out, minutes before the start. */
      rolled_out_min_ago: z.number().positive(),
      jvm_options: z.string().min(1),
      change_cause: z.string().min(1),
      /** How many pods' sessions allocate most: their old generation is where the story starts. */
      sick_pods: z.number().int().positive(),
      sick_memory_utilisation: z.number().gt(0).lt(1),
      allocation_skew: z.number().positive(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('traffic_surge'),
      target: workloadRef,
      at_s: z.number().nonnegative(),
      /** The offered load is multiplied by this at the peak. */
      peak_factor: z.number().gt(1),
      ramp_s: z.number().positive().default(60),
      hold_s: z.number().positive(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('memory_leak'),
      target: workloadRef,
      /** When the leaking revision rolls out, seconds from the start; negative: before it. */
      at_s: z.number(),
      mib_per_min: z.number().positive(),
      image: z.string().min(1),
      change_cause: z.string().min(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal('bad_config_push'),
      namespace: name,
      config_map: name,
      at_s: z.number().nonnegative(),
      set: stringMap,
      change_cause: z.string().min(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal('feature_flag_flip'),
      namespace: name,
      /** The config map whose flags.flagd.json defines the flag. */
      config_map: name,
      flag: z.string().min(1),
      at_s: z.number().nonnegative(),
      state: z.enum(['ENABLED', 'DISABLED']).optional(),
      default_variant: z.string().min(1).optional(),
      change_cause: z.string().min(1),
    })
    .strict()
    .refine((f) => f.state !== undefined || f.default_variant !== undefined, { message: 'give state, default_variant or both' }),
  z
    .object({
      kind: z.literal('noisy_neighbor'),
      /** The neighbour's batch deployment: its work queue fills up at `at_s`. */
      aggressor: workloadRef,
      at_s: z.number().nonnegative(),
      burst_rps: z.number().positive(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('node_pressure'),
      /** The node whose system daemon leaks; or the node carrying most of `on_node_of`'s pods. */
      node: z.string().min(1).optional(),
      on_node_of: workloadRef.optional(),
      at_s: z.number().nonnegative(),
      mib_per_min: z.number().positive(),
    })
    .strict()
    .refine((f) => (f.node === undefined) !== (f.on_node_of === undefined), { message: 'give exactly one of node, on_node_of' }),
]);
export type FaultSpec = z.infer<typeof FaultSpec>;

const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const ActionExpectation = z
  .object({
    agent: z.string().min(1),
    action: z.string().min(1),
    executed: z.boolean().optional(),
    verified: z.boolean().optional(),
    verdict: z.enum(['allow', 'require_approval', 'deny']).optional(),
  })
  .strict();
export type ActionExpectation = z.infer<typeof ActionExpectation>;

export const ExpectSpec = z
  .object({
    /** Whether the undisturbed twin breaches the SLO (the scenario has an incident). */
    incident: z.boolean(),
    detected: z.boolean().optional(),
    max_mttd_s: z.number().nonnegative().optional(),
    max_mttr_s: z.number().nonnegative().optional(),
    sla_restored: z.boolean().optional(),
    max_slo_violation_minutes: z.number().nonnegative().optional(),
    /** The most severe observation Watchtower may publish ("info" for a quiet day). */
    max_observation_severity: Severity.optional(),
    required_actions: z.array(ActionExpectation).default([]),
    forbidden_actions: z.array(ActionExpectation.partial({ agent: true })).default([]),
    no_actions: z.boolean().default(false),
    /**
     * Judge at the end of the declared duration, not at the first restoration: the demo runs the
     * whole scenario (a load that keeps changing can break the SLA again), and `sla_restored` means
     * the SLO holds at the end.
     */
    run_to_end: z.boolean().default(false),
  })
  .strict();
export type ExpectSpec = z.infer<typeof ExpectSpec>;

export const ScenarioSpec = z
  .object({
    name,
    /** The story, for an operator. */
    description: z.string().min(1),
    seed: z.number().int().nonnegative(),
    /** Simulated minutes the demo runs: the whole run for a scenario without incident, the limit otherwise. */
    duration_min: z.number().positive(),
    /** Relative standard deviation of the load's noise (the twin's default when absent). */
    load_noise: z.number().min(0).max(0.5).optional(),
    nodes: z.array(NodePoolSpec).optional(),
    /** Namespaces that belong to no tenant (kube-system). */
    system_namespaces: z.array(z.object({ name, created_days_ago: z.number().nonnegative().default(500) }).strict()).default([]),
    freezes: z.array(FreezeWindow).default([]),
    tenants: z.array(TenantScenarioSpec).min(1),
    faults: z.array(FaultSpec).default([]),
    expect: ExpectSpec,
  })
  .strict();
export type ScenarioSpec = z.infer<typeof ScenarioSpec>;

/**
 * Validates a parsed scenario file; every problem is named with its field, and `source` names the
 * file. `fileName`, when given, is the name the file's `name` must carry (its file's), checked with
 * the rest so that one refusal lists everything.
 */
export function parseScenarioSpec(raw: unknown, source: string, fileName?: string): ScenarioSpec {
  const res = ScenarioSpec.safeParse(raw);
  const problems = res.success ? crossChecks(res.data) : res.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
  const declared = typeof raw === 'object' && raw !== null ? (raw as { name?: unknown }).name : undefined;
  if (fileName !== undefined && typeof declared === 'string' && declared !== fileName) {
    problems.unshift(`name: '${declared}' does not match the file name '${fileName}'`);
  }
  if (!res.success || problems.length > 0) {
    throw new GovernorError('config_invalid', `scenario ${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { details: { problems } });
  }
  return res.data;
}

/** The names of a pool's nodes, in the order they are made. */
export function poolNodeNames(p: NodePoolSpec): string[] {
  return p.names ?? Array.from({ length: p.count! }, (_, i) => `${p.pool}-${String(i + 1).padStart(2, '0')}`);
}

const nodeNames = (pools: readonly NodePoolSpec[]): string[] => pools.flatMap(poolNodeNames);

/** What the schema cannot say: references between parts of the file. */
function crossChecks(s: ScenarioSpec): string[] {
  const problems: string[] = [];
  const deployments = new Map<string, DeploymentSpec>();
  const configMaps = new Set<string>();
  const namespaces = new Set<string>();
  s.tenants.forEach((t, ti) =>
    t.namespaces.forEach((ns, ni) => {
      if (namespaces.has(ns.name)) problems.push(`tenants.${ti}.namespaces.${ni}.name: namespace '${ns.name}' is declared twice`);
      namespaces.add(ns.name);
      for (const c of ns.config_maps) configMaps.add(`${ns.name}/${c.name}`);
      ns.deployments.forEach((d, di) => {
        deployments.set(`${ns.name}/${d.name}`, d);
        const at = `tenants.${ti}.namespaces.${ni}.deployments.${di}`;
        if (d.config && !ns.config_maps.some((c) => c.name === d.config!.config_map))
          problems.push(`${at}.config.config_map: no config map '${d.config.config_map}' in namespace '${ns.name}'`);
        if (d.config?.effect !== undefined && !Object.hasOwn(CONFIG_EFFECTS, d.config.effect))
          problems.push(`${at}.config.effect: unknown effect '${d.config.effect}'; known: ${Object.keys(CONFIG_EFFECTS).join(', ')}`);
        if (d.config?.effect === 'feature-flag' && d.config.flag === undefined) problems.push(`${at}.config.flag: the feature-flag effect needs the flag it models`);
      });
    }),
  );
  if (!s.tenants.some((t) => t.namespaces.some((ns) => ns.deployments.some((d) => d.watch)))) problems.push('tenants: no deployment has "watch": true; the demo has nothing to score');
  s.faults.forEach((f, i) => {
    const refs = 'target' in f ? [f.target] : f.kind === 'noisy_neighbor' ? [f.aggressor] : f.kind === 'node_pressure' && f.on_node_of ? [f.on_node_of] : [];
    for (const r of refs) if (!deployments.has(r)) problems.push(`faults.${i}: no deployment '${r}' in the scenario`);
    if (f.kind === 'feature_flag_flip') {
      const cm = s.tenants.flatMap((t) => t.namespaces).find((n) => n.name === f.namespace)?.config_maps.find((c) => c.name === f.config_map);
      const flags = cm ? flagsOf(cm.data[FLAGS_FILE_KEY]) : undefined;
      if (!cm) problems.push(`faults.${i}.config_map: no config map '${f.config_map}' in namespace '${f.namespace}'`);
      else if (!flags) problems.push(`faults.${i}.config_map: '${f.config_map}' has no valid ${FLAGS_FILE_KEY} (a flagd file with "flags")`);
      else if (!Object.hasOwn(flags, f.flag)) problems.push(`faults.${i}.flag: no flag '${f.flag}' in ${f.namespace}/${f.config_map}`);
      else if (f.default_variant !== undefined && !Object.hasOwn(flags[f.flag]!.variants ?? {}, f.default_variant))
        problems.push(`faults.${i}.default_variant: flag '${f.flag}' has no variant '${f.default_variant}'`);
    }
    if (f.kind === 'bad_config_push' && !configMaps.has(`${f.namespace}/${f.config_map}`))
      problems.push(`faults.${i}.config_map: no config map '${f.config_map}' in namespace '${f.namespace}'`);
    if (f.kind === 'jvm_heap_regression' && deployments.get(f.target) && !deployments.get(f.target)!.jvm_options)
      problems.push(`faults.${i}: '${f.target}' is not a JVM service (no jvm_options)`);
    if (f.kind === 'node_pressure' && f.node && s.nodes && !nodeNames(s.nodes).includes(f.node))
      problems.push(`faults.${i}.node: no node '${f.node}' in the scenario's node pools`);
  });
  const seen = new Set<string>();
  for (const n of nodeNames(s.nodes ?? [])) {
    if (seen.has(n)) problems.push(`nodes: node '${n}' is declared twice`);
    seen.add(n);
  }
  if (s.expect.no_actions && s.expect.required_actions.length > 0) problems.push('expect: no_actions contradicts required_actions');
  return problems;
}

