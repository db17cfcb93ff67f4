// The in-memory LanguageModel: answers each turn from a script (a reply, or a function of the
// request), records what it was asked, and throws — loudly, not as a model failure — when the script
// runs out, so a test that asks more than it scripted fails instead of passing on a fallback.
import { LlmFailure, type LanguageModel, type ModelTurn, type ModelTurnRequest } from './language-model.ts';

export type ScriptedReply = Omit<ModelTurn, 'model' | 'usage'> & Partial<Pick<ModelTurn, 'usage'>>;
export type ScriptStep = ScriptedReply | ((req: ModelTurnRequest) => ScriptedReply | Promise<ScriptedReply>);

export class ScriptRanOut extends Error {
  constructor(turn: number) {
    super(`the scripted model has no reply for turn ${turn}`);
    this.name = 'ScriptRanOut';
  }
}

export class ScriptedModel implements LanguageModel {
  readonly requests: ModelTurnRequest[] = [];
  private next = 0;

  constructor(
    private readonly script: ScriptStep[],
    readonly model = 'scripted',
  ) {}

  async turn(req: ModelTurnRequest): Promise<ModelTurn> {
    this.requests.push(structuredClone({ ...req, signal: undefined }) as unknown as ModelTurnRequest);
    const step = this.script[this.next++];
    if (step === undefined) throw new ScriptRanOut(this.next);
    // As the real one: the exchange's deadline aborts a turn that has not answered.
    if (req.signal.aborted) throw new LlmFailure('timeout', 'the exchange ran out of time before this turn');
    const aborted = new Promise<never>((_, reject) =>
      req.signal.addEventListener('abort', () => reject(new LlmFailure('timeout', 'the model did not answer within the timeout')), { once: true }),
    );
    aborted.catch(() => undefined);
    const reply = typeof step === 'function' ? await Promise.race([step(req), aborted]) : step;
    return { model: this.model, usage: { input_tokens: 0, output_tokens: 0 }, ...reply };
  }

  get remaining(): number {
    return this.script.length - this.next;
  }
}

/** A final answer through the `respond` tool, as the reasoner asks for it. */
export const respond = (input: unknown, id = 'toolu_respond'): ScriptedReply => ({
  content: [{ type: 'tool_use', id, name: 'respond', input }],
  stop_reason: 'tool_use',
});

/** A request to run one of the caller's tools. */
export const useTool = (name: string, input: unknown, id = `toolu_${name}`): ScriptedReply => ({
  content: [{ type: 'tool_use', id, name, input }],
  stop_reason: 'tool_use',
});
