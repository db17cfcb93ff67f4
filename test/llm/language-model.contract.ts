// The LanguageModel contract, one suite run against every implementation (the Anthropic SDK against
// the fake Messages API, and the scripted in-memory model): a text turn, a tool_use turn, a
// tool_result sent back, usage reported, and a turn that does not answer aborted by the exchange's
// signal as a `timeout` failure.
import { describe, expect, it } from 'vitest';
import { LlmFailure, type LanguageModel, type ModelMessage, type ModelTurnRequest } from '../../src/llm/language-model.ts';
import type { ScriptedReply } from '../../src/llm/scripted-model.ts';

/** What the implementation answers, in order: a reply, or a turn that never answers. */
export type ContractStep = ScriptedReply | 'hang';

export interface ContractSubject {
  model: LanguageModel;
  /** Requests as the implementation received them (the wire body, or the scripted model's record). */
  received(): { messages: unknown[] }[];
}

const request = (messages: ModelMessage[], signal = new AbortController().signal): ModelTurnRequest => ({
  system: 'You are tested.',
  messages,
  tools: [{ name: 'lookup', description: 'Looks something up', input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }],
  maxTokens: 256,
  signal,
  timeoutMs: 2_000,
});
const user = (text: string): ModelMessage => ({ role: 'user', content: [{ type: 'text', text }] });

export function languageModelContract(name: string, make: (steps: ContractStep[]) => Promise<ContractSubject>): void {
  describe(`LanguageModel contract: ${name}`, () => {
    it('answers a text turn with its content, stop reason and usage', async () => {
      const s = await make([{ content: [{ type: 'text', text: 'hello' }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 3 } }]);
      const t = await s.model.turn(request([user('hi')]));
      expect(t).toMatchObject({ content: [{ type: 'text', text: 'hello' }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 3 } });
      expect(typeof t.model).toBe('string');
    });

    it('returns a tool_use block, and takes the tool_result back in the next turn', async () => {
      const s = await make([
        { content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'p99' } }], stop_reason: 'tool_use' },
        { content: [{ type: 'text', text: 'done' }], stop_reason: 'end_turn' },
      ]);
      const first = await s.model.turn(request([user('look it up')]));
      expect(first.content).toEqual([{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'p99' } }]);
      expect(first.stop_reason).toBe('tool_use');
      const second = await s.model.turn(request([user('look it up'), { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '<data>1240</data>' }] }]));
      expect(second.content).toEqual([{ type: 'text', text: 'done' }]);
      expect(JSON.stringify(s.received().at(-1)!.messages)).toContain('"tool_use_id":"toolu_1"');
    });

    it('gives up on a turn that does not answer when the exchange aborts it: a timeout failure', async () => {
      const s = await make(['hang']);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 100);
      const t0 = performance.now();
      const err = await s.model.turn(request([user('hi')], abort.signal)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmFailure);
      expect((err as LlmFailure).reason).toBe('timeout');
      expect(performance.now() - t0).toBeLessThan(1_000);
    });
  });
}
