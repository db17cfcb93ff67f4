// The seam between Governor and a language model: one turn of a conversation in the Messages API's
// shape (text, tool_use and tool_result blocks, a stop reason, token usage), nothing more. The
// Anthropic implementation (anthropic-model.ts) speaks it over the SDK; the scripted one
// (scripted-model.ts) answers from a script and throws when the script runs out. Running tools,
// validating the answer, timing out, the circuit breaker and the fallback to rules live above it
// (reasoner.ts), so they are the same whichever model answers.
// A model behind this seam never acts: it returns words and tool requests, which the caller checks.

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock;

export interface ModelMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ModelToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the tool's input (an object). */
  input_schema: Record<string, unknown>;
}

export interface ModelTurnRequest {
  system: string;
  messages: ModelMessage[];
  tools: ModelToolSpec[];
  maxTokens: number;
  /** Aborts the turn: the exchange's deadline. */
  signal: AbortSignal;
  /** What is left of the exchange's time, for the HTTP request's own timeout. */
  timeoutMs: number;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded' | (string & {});

export interface ModelTurn {
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  usage: { input_tokens: number; output_tokens: number };
}

export interface LanguageModel {
  /** The model's name, for the record. */
  readonly model: string;
  /** One turn; throws LlmFailure when the model cannot answer. */
  turn(req: ModelTurnRequest): Promise<ModelTurn>;
}

/** Why the rules answered instead of the model. */
export type FallbackReason =
  | 'no_model'
  | 'breaker_open'
  | 'connection'
  | 'overloaded'
  | 'rate_limited'
  | 'server_error'
  | 'client_error'
  | 'timeout'
  | 'refusal'
  | 'invalid_output'
  | 'step_limit'
  | 'token_limit'
  /** Anything else that went wrong on Governor's side of the exchange. */
  | 'internal';

/** A model that could not answer, and why: what the reasoner falls back on. */
export class LlmFailure extends Error {
  constructor(
    readonly reason: FallbackReason,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LlmFailure';
  }
}
