// Configurer: turns observations into config-revert proposals. On a warning or critical observation
// about a deployment it reads the config maps that deployment reads, and their history, through the
// ConfigMap MCP server — and, when its session reaches the Feature Flag MCP server, the flagd flags
// that deployment reads and theirs; when a map or a flag changed within the hour before the incident
// it proposes putting the last change back (update_config with the previous data, or set_flag to
// the flag's previous setting, which turns a flag that was switched on off again), recorded with
// every tool call it made and published through the outbox. A flag file's changes are judged flag
// by flag, never reverted as a whole map. One proposal per incident: a redelivered or repeated
// observation proposes nothing again. It never executes anything itself (its executor does, on a
// grant), and proposes nothing when nothing changed.
import { proposalOf, recordProposal, type RecordedToolCall } from '../runtime/propose.ts';
import type { Observation, Proposal } from '../../src/contracts/events.ts';
import type { BusMessage } from '../../src/bus/event-bus.ts';
import { readTool } from '../runtime/cluster-views.ts';
import type { ObservationAgentDeps } from '../runtime/agent-deps.ts';
import { ConfigHistoryView, ConfigList, ConfigView } from './config-views.ts';
import { CONFIGMAP_SERVER, configRevertCandidates, type ConfigFacts } from './planner.ts';
import { FlagHistoryView, FlagList } from './flag-views.ts';
import { FEATURE_FLAGS_SERVER, flagRevertCandidates, type FlagFacts } from './flag-planner.ts';
import type { PlannedAction } from '../runtime/planned-action.ts';
import { chooseAmong, withModelReason } from '../runtime/candidate-choice.ts';
import { recordExchange, type Reasoner } from '../../src/llm/reasoner.ts';

/**
 * The session is the Configurer's own; see agents/runtime/agent-deps.ts. With a reasoner, a language
 * model may choose which suspect map to revert among the planner's candidates.
 */
export type ConfigurerDeps = ObservationAgentDeps & {
  reasoner?: Reasoner;
  /** Whether `tools` reaches the Feature Flag MCP server (list_flags, get_flag_history, set_flag). */
  featureFlags?: boolean;
};


export class Configurer {
  constructor(private readonly deps: ConfigurerDeps) {}

  async onMessage(msg: BusMessage): Promise<void> {
    if (msg.event.type !== 'observation') return;
    await this.onObservation(msg.event);
  }

  async onObservation(obs: Observation): Promise<void> {
    const log = this.deps.logger;
    if (obs.severity === 'info') return;
    if (obs.target.kind !== 'Deployment') return;
    const tenant = this.deps.tenants[obs.tenant];
    if (!tenant) {
      log.warn({ agent: 'configurer', tenant: obs.tenant }, 'observation for an unknown tenant; no proposal');
      return;
    }
    const incidentId = obs.incident_id ?? obs.id;
    const records = await this.deps.audit.list({ incident_id: incidentId });
    const proposed = records.some((r) => r.kind === 'proposal' && (r.payload as { proposal?: Proposal }).proposal?.agent === 'configurer');
    if (proposed) return;
    // The incident began with its first observation; the lookback is measured from there.
    const observedAt = records.filter((r) => r.kind === 'observation').map((r) => Date.parse(r.at));
    const incidentStartMs = Math.min(Date.parse(obs.ts), ...observedAt);

    const calls: RecordedToolCall[] = [];
    const read = async <S extends Parameters<typeof readTool>[3]>(tool: string, args: Record<string, unknown>, schema: S, server = CONFIGMAP_SERVER) => {
      const response = await readTool(this.deps.tools, tool, args, schema);
      calls.push({ server, tool, args, response });
      return response;
    };
    const listArgs = { namespace: obs.namespace, deployment: obs.target.name };
    // Flags first: a flag file's maps are judged flag by flag, so they are left out of the config reverts.
    const flags: FlagFacts[] = [];
    const flagMaps = new Set<string>();
    if (this.deps.featureFlags) {
      const sets = await read('list_flags', listArgs, FlagList, FEATURE_FLAGS_SERVER);
      for (const set of sets.flag_sets) {
        if (set.error !== null) {
          log.warn({ agent: 'configurer', tenant: obs.tenant, incident_id: incidentId }, `flag file ${set.config_map} is not readable, its flags are not judged: ${set.error}`);
          continue;
        }
        flagMaps.add(set.config_map);
        // Only a flag that changed since tracking began can be a suspect; the others need no history read.
        for (const f of set.flags.filter((x) => x.last_changed_at !== null)) {
          const history = await read('get_flag_history', { namespace: obs.namespace, config_map: set.config_map, flag: f.flag }, FlagHistoryView, FEATURE_FLAGS_SERVER);
          flags.push({ config_map: set.config_map, referenced_by: set.referenced_by, flag: f.flag, current: { state: f.state, default_variant: f.default_variant }, served_value: f.served_value, history });
        }
      }
    }
    const list = await read('list_configs', listArgs, ConfigList);
    const configs: ConfigFacts[] = [];
    for (const cm of list.config_maps.filter((c) => !flagMaps.has(c.name))) {
      const args = { namespace: obs.namespace, name: cm.name };
      const config = await read('get_config', args, ConfigView);
      const history = await read('get_config_history', args, ConfigHistoryView);
      configs.push({ config, history });
    }
    const sloP99Ms = tenant.slo.p99_latency_ms;
    // The change seen last is the likeliest cause, whether a flag or a config map.
    const changedAt = (p: PlannedAction) => Date.parse(String(p.params['changed_at']));
    const candidates: PlannedAction[] = [
      ...flagRevertCandidates({ observation: obs, flags, sloP99Ms, incidentStartMs }),
      ...configRevertCandidates({ observation: obs, configs, sloP99Ms, incidentStartMs }),
    ].sort((a, b) => changedAt(b) - changedAt(a));
    // One revert at a time: the rules take the map changed last; a model may pick another suspect.
    // The config values are data to it (the maps' contents are quoted in the candidates and facts).
    const choice = await chooseAmong(this.deps.reasoner, {
      purpose: 'configurer_choice', agent: 'Configurer', observation: obs, candidates, rules: 'first',
      facts: {
        config_maps: configs.map((c) => ({ name: c.config.name, data: c.config.data })),
        ...(flags.length > 0 ? { flags: flags.map((f) => ({ config_map: f.config_map, flag: f.flag, ...f.current })) } : {}),
      },
    });
    const chosen = choice.chosen[0];
    const planned = chosen ? withModelReason(chosen, choice) : undefined;
    if (!planned) {
      log.info(
        { agent: 'configurer', tenant: obs.tenant, incident_id: incidentId },
        `no config or flag change of ${obs.target.name} (${list.config_maps.map((c) => c.name).join(', ') || 'reads no config map'}) in the hour before the incident; no proposal`,
      );
      return;
    }

    // Its target is the service whose SLO the revert restores: what the gateway leases and the verifier measures.
    const proposal = proposalOf(planned, {
      agent: 'configurer', tenant: obs.tenant, namespace: obs.namespace, target: obs.target, nowMs: this.deps.clock.now(),
      incident_id: incidentId, observation_id: obs.id, llm: choice.llm,
    });
    await recordExchange(this.deps.recorder, choice.exchange, { actor: 'configurer', at: new Date(this.deps.clock.now()).toISOString(), incident_id: incidentId, proposal_id: proposal.id, tenant: obs.tenant });
    await recordProposal(this.deps.recorder, proposal, { tool_calls: calls });
    log.info({ agent: 'configurer', proposal_id: proposal.id, tenant: proposal.tenant, incident_id: incidentId }, `proposed ${planned.tool_call.tool} of ${String(planned.params['config_map'])}${planned.params['flag'] === undefined ? '' : ` flag ${String(planned.params['flag'])}`}`);
  }
}
