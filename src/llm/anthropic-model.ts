// The LanguageModel seam over Anthropic's Messages API, through the official SDK. Everything the SDK
// would otherwise read from the environment (key, base URL) is passed explicitly from Config; its
// retries are limited (it would otherwise back off for seconds while the rules could answer at
// once), and every request carries the exchange's deadline as its timeout and abort signal. SDK
// errors become LlmFailure with the reason the audit records.
// It must never be handed anything but what the reasoner built: it sends, it does not decide.
import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { ContentBlock, LanguageModel, ModelTurn, ModelTurnRequest } from './language-model.ts';
import { LlmFailure } from './language-model.ts';

export interface AnthropicModelOptions {
  apiKey: string;
  /** The Messages API's base URL; Anthropic's own when undefined. */
  baseUrl: string | undefined;
  model: string;
  /** Per request, on top of the deadline each request carries. */
  timeoutMs: number;
  /** Retries of a failed request inside one turn; 0 by default: the rules are the retry. */
  maxRetries?: number;
}

export const ANTHROPIC_API_URL = 'https://api.anthropic.com';

export class AnthropicModel implements LanguageModel {
  readonly model: string;
  private readonly client: Anthropic;

  constructor(opts: AnthropicModelOptions) {
    this.model = opts.model;
    this.client = new Anthropic({
      apiKey: opts.apiKey,
      authToken: null,
      baseURL: opts.baseUrl ?? ANTHROPIC_API_URL,
      timeout: opts.timeoutMs,
      maxRetries: opts.maxRetries ?? 0,
    });
  }

  async turn(req: ModelTurnRequest): Promise<ModelTurn> {
    if (req.signal.aborted) throw new LlmFailure('timeout', 'the exchange ran out of time before this turn');
    try {
      const msg = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: req.maxTokens,
          system: req.system,
          messages: req.messages.map((m) => ({ role: m.role, content: m.content.map(toParam) })),
          ...(req.tools.length ? { tools: req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.input_schema as Anthropic.Tool.InputSchema })) } : {}),
        },
        { signal: req.signal, timeout: Math.max(1, Math.round(req.timeoutMs)) },
      );
      const content: ContentBlock[] = [];
      for (const b of msg.content) {
        if (b.type === 'text') content.push({ type: 'text', text: b.text });
        else if (b.type === 'tool_use') content.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
        // Other block kinds (thinking, server tools) carry nothing the reasoner uses.
      }
      return {
        model: msg.model,
        content,
        stop_reason: msg.stop_reason,
        usage: { input_tokens: msg.usage?.input_tokens ?? 0, output_tokens: msg.usage?.output_tokens ?? 0 },
      };
    } catch (err) {
      throw failureOf(err, req.signal);
    }
  }
}

function toParam(b: ContentBlock): Anthropic.ContentBlockParam {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text };
    case 'tool_use':
      return { type: 'tool_use', id: b.id, name: b.name, input: b.input };
    case 'tool_result':
      return { type: 'tool_result', tool_use_id: b.tool_use_id, content: b.content, ...(b.is_error ? { is_error: true } : {}) };
  }
}

/** What went wrong, in the reasoner's words. */
export function failureOf(err: unknown, signal?: AbortSignal): LlmFailure {
  if (err instanceof LlmFailure) return err;
  if (err instanceof APIUserAbortError || signal?.aborted) return new LlmFailure('timeout', 'the model did not answer within the timeout', { cause: err });
  if (err instanceof APIConnectionTimeoutError) return new LlmFailure('timeout', 'the model did not answer within the timeout', { cause: err });
  if (err instanceof APIConnectionError) return new LlmFailure('connection', `cannot reach the model: ${err.message}`, { cause: err });
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    const what = `${status} ${err.type ?? ''}`.trim();
    if (status === 529 || err.type === 'overloaded_error') return new LlmFailure('overloaded', `the model is overloaded (${what})`, { cause: err });
    if (status === 429) return new LlmFailure('rate_limited', `rate limited (${what})`, { cause: err });
    if (status >= 500) return new LlmFailure('server_error', `the model's server failed (${what})`, { cause: err });
    return new LlmFailure('client_error', `the model refused the request (${what}): ${err.apiMessage ?? err.message}`, { cause: err });
  }
  if (err instanceof SyntaxError) return new LlmFailure('server_error', `the model's answer is not readable JSON: ${err.message}`, { cause: err });
  return new LlmFailure('connection', `the model call failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
