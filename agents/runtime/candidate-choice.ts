// A language model choosing among an agent's rule-based candidate actions. The candidates are typed
// plans the rules made (action, target, parameters, blast radius, reasoning); the model sees them as
// data and answers only with their indices and why. It can never invent an action, a target or a
// tenant: an index outside the list, a duplicate, or anything but indices and a reason is an invalid
// answer, and the rules' choice stands. What is chosen is proposed like any proposal, and goes
// through the gateway. With no model, an outage, an open breaker or fewer than two candidates, the
// rules' choice is taken at once.
import { z } from 'zod';
import type { Observation } from '../../src/contracts/events.ts';
import type { LlmExchange, Reasoner } from '../../src/llm/reasoner.ts';
import type { PlannedAction } from './planned-action.ts';

export interface Choice<A extends PlannedAction> {
  chosen: A[];
  /** `used`: the model chose (and `why` says why); `unavailable`: the rules' choice. */
  llm: 'used' | 'unavailable';
  why?: string;
  /** What to record (llm_exchange); absent when the model was not asked. */
  exchange: LlmExchange | undefined;
}

const Chosen = z.strictObject({
  chosen: z.array(z.number().int().min(0)).min(1).describe('Indices of the candidates to propose, most important first'),
  why: z.string().min(1).max(1000).describe('Why these candidates, in one or two sentences'),
});

export async function chooseAmong<A extends PlannedAction>(
  reasoner: Reasoner | undefined,
  opts: {
    purpose: string;
    agent: string;
    observation: Observation;
    candidates: A[];
    /** What the rules would propose: all of them, or the first. */
    rules: 'all' | 'first';
    /** More facts the model reasons over, quoted as data. */
    facts?: Record<string, unknown>;
  },
): Promise<Choice<A>> {
  const { candidates } = opts;
  const byRules: Choice<A> = { chosen: opts.rules === 'all' ? candidates : candidates.slice(0, 1), llm: 'unavailable', exchange: undefined };
  if (!reasoner?.configured || candidates.length < 2) return byRules;
  const o = opts.observation;
  const reasoned = await reasoner.ask({
    purpose: opts.purpose,
    task: [
      `${opts.agent} answers an incident on ${o.namespace}/${o.target.name} (tenant ${o.tenant}) and its rules made ${candidates.length} candidate actions.`,
      opts.rules === 'all'
        ? 'Choose which of them to propose (one or more), by index.'
        : 'Choose the one to propose, by index.',
      'You can only choose among these candidates; each chosen one still goes through the policy gateway and, where required, human approval.',
    ].join(' '),
    data: {
      observation: { severity: o.severity, summary: o.summary, signals: o.signals, correlated_change: o.correlated_change ?? null },
      candidates: candidates.map((c, index) => ({ index, action: c.action, params: c.params, blast_radius: c.blast_radius, reasoning: c.reasoning })),
      ...opts.facts,
    },
    output: Chosen,
    check: (v) => {
      const bad = v.chosen.filter((i) => i >= candidates.length);
      if (bad.length) return `no candidate ${bad.join(', ')} (there are ${candidates.length})`;
      if (new Set(v.chosen).size !== v.chosen.length) return 'a candidate is chosen twice';
      if (opts.rules === 'first' && v.chosen.length !== 1) return 'exactly one candidate must be chosen';
      return undefined;
    },
  });
  if (reasoned.source === 'rules') return { ...byRules, exchange: reasoned.exchange };
  return { chosen: reasoned.value.chosen.map((i) => candidates[i]!), llm: 'used', why: reasoned.value.why, exchange: reasoned.exchange };
}

/** A chosen plan with the model's reason added to its reasoning (quoted: it is the model's word). */
export function withModelReason<A extends PlannedAction>(plan: A, choice: Choice<A>): A {
  if (choice.llm !== 'used' || !choice.why) return plan;
  return { ...plan, reasoning: [...plan.reasoning, `chosen among ${choice.chosen.length > 1 ? 'the candidates' : 'several candidates'} by a language model: “${choice.why}”`] };
}
