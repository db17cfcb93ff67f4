// A policy decision in words a person reads: for each layer (safety, SLA, operational, cost, autonomy,
// blast radius) whether it let the proposal through, asks for a human, or denies it, with the
// policy's own messages as the reasons, and one summary sentence. Pure: the decision comes from the
// engine, the rule table from the bundle's catalog. It must never change a verdict: the decision's
// verdict is the one it reports, whatever the catalog says about single rules.
import type { PolicyDecision, PolicyInput } from './policy-engine.ts';
import { ruleVerdict, type BundleCatalog } from './bundle-catalog.ts';

export const LAYERS = ['safety', 'sla', 'operational', 'cost', 'autonomy', 'blast_radius'] as const;

const LAYER_TITLE: Record<string, string> = {
  safety: 'Safety (hard limits)',
  sla: 'SLA (tenant contract)',
  operational: 'Operational (freezes, concurrency, cooldowns)',
  cost: 'Cost (budgets, reserved instances)',
  autonomy: 'Autonomy (agent level, supervised actions)',
  blast_radius: 'Blast radius (tenants, services, capacity)',
};

export type LayerOutcome = 'allowed' | 'require_approval' | 'deny';

export interface LayerExplanation {
  layer: string;
  title: string;
  outcome: LayerOutcome;
  reasons: { rule: string; verdict: 'deny' | 'require_approval' | 'unknown'; message: string }[];
}

export interface Explanation {
  verdict: PolicyDecision['verdict'];
  policy_version: string;
  summary: string;
  layers: LayerExplanation[];
  /** The same, as lines of text. */
  text: string;
}

export function explainDecision(input: PolicyInput, decision: PolicyDecision, catalog?: BundleCatalog): Explanation {
  const p = input.proposal;
  const what = `${p.action} of ${p.target.kind} ${p.target.name} in ${p.namespace} (tenant ${p.tenant}) proposed by ${p.agent} at autonomy level ${input.context.agent_level}`;
  const layers: LayerExplanation[] = LAYERS.map((layer) => {
    const reasons = decision.violations
      .filter((v) => v.layer === layer)
      .map((v) => ({ rule: v.rule, verdict: (catalog ? ruleVerdict(catalog, v.layer, v.rule) : undefined) ?? ('unknown' as const), message: v.message }));
    let outcome: LayerOutcome = 'allowed';
    if (reasons.length > 0) {
      // A rule the catalog does not know is counted as a deny when the decision is a deny (fail closed in words too).
      const denies = reasons.some((r) => r.verdict === 'deny' || (r.verdict === 'unknown' && decision.verdict === 'deny'));
      outcome = denies ? 'deny' : 'require_approval';
    }
    return { layer, title: LAYER_TITLE[layer] ?? layer, outcome, reasons };
  });
  // Layers the decision named that this list does not know (a new layer): kept, never dropped.
  for (const v of decision.violations.filter((x) => !(LAYERS as readonly string[]).includes(x.layer))) {
    layers.push({ layer: v.layer, title: v.layer, outcome: decision.verdict === 'allow' ? 'require_approval' : decision.verdict, reasons: [{ rule: v.rule, verdict: 'unknown', message: v.message }] });
  }
  const denying = layers.filter((l) => l.outcome === 'deny');
  const asking = layers.filter((l) => l.outcome === 'require_approval');
  const names = (ls: LayerExplanation[]) => ls.map((l) => l.layer.replace('_', ' ')).join(', ');
  const summary =
    decision.verdict === 'allow'
      ? `Allowed: ${what} passes every layer and may run without a human.`
      : decision.verdict === 'require_approval'
        ? `Needs a human approval: ${what}. ${names(asking) || 'A layer'} ask${asking.length === 1 ? 's' : ''} for it; nothing denies it.`
        : `Denied: ${what}. ${names(denying) || 'A layer'} refuse${denying.length === 1 ? 's' : ''} it, and no approval can override a deny.` +
          (asking.length ? ` Besides, ${names(asking)} would ask for a human.` : '');
  const text = [
    summary,
    ...layers.map((l) =>
      l.outcome === 'allowed'
        ? `- ${l.title}: allowed.`
        : `- ${l.title}: ${l.outcome === 'deny' ? 'DENIES' : 'asks for approval'}:\n${l.reasons.map((r) => `    • ${r.message} [${r.rule}${r.verdict === 'unknown' ? '' : `, ${r.verdict}`}]`).join('\n')}`,
    ),
    `Policy version ${decision.policy_version.slice(0, 12)}.`,
  ].join('\n');
  return { verdict: decision.verdict, policy_version: decision.policy_version, summary, layers, text };
}
