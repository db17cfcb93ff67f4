// The reasoner a run uses, from configuration: the Anthropic model when ANTHROPIC_API_KEY is set,
// else none (the rules answer everything, exactly as without this module), with a circuit breaker
// whose transitions are announced once each. And the one line `start` and the demo print about it.
import type { LlmConfig } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import { ANTHROPIC_API_URL, AnthropicModel } from './anthropic-model.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { Reasoner, announceBreaker } from './reasoner.ts';

export function reasonerOf(llm: LlmConfig | undefined, opts: { logger?: Logger; announce?: (text: string) => void; cooldownMs?: number } = {}): Reasoner {
  const model = llm ? new AnthropicModel({ apiKey: llm.apiKey, baseUrl: llm.baseUrl, model: llm.model, timeoutMs: llm.timeoutMs }) : undefined;
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    cooldownMs: opts.cooldownMs ?? 30_000,
    onChange: (to, from, why) => {
      opts.logger?.warn({ breaker: to, from, why }, `llm circuit breaker ${to}`);
      if (opts.announce) announceBreaker(opts.announce, () => llm?.model)(to, from, why);
    },
  });
  return new Reasoner({ model, timeoutMs: llm?.timeoutMs ?? 0, breaker, ...(opts.logger ? { logger: opts.logger } : {}) });
}

/** Who is in charge, in one line. */
export function llmReport(llm: LlmConfig | undefined): string {
  return llm
    ? `llm: ${llm.model} at ${llm.baseUrl ?? ANTHROPIC_API_URL} reasons (timeout ${llm.timeoutMs} ms); on any failure the rules answer at once`
    : 'llm: ANTHROPIC_API_KEY unset: rules in charge';
}
