// The LanguageModel contract against both implementations: Anthropic's SDK talking to the local fake
// of the Messages API, and the scripted in-memory model.
import { afterAll, beforeAll } from 'vitest';
import { AnthropicModel } from '../../src/llm/anthropic-model.ts';
import { ScriptedModel } from '../../src/llm/scripted-model.ts';
import { FAKE_ANTHROPIC_KEY, FakeMessagesApi } from './fake-messages-api.ts';
import { languageModelContract } from './language-model.contract.ts';

let api: FakeMessagesApi;
beforeAll(async () => {
  api = await FakeMessagesApi.start();
});
afterAll(async () => {
  await api.close();
});

languageModelContract('Anthropic SDK against the fake Messages API', async (steps) => {
  api.scriptNext(...steps.map((s) => (s === 'hang' ? { hang: true as const } : { reply: { content: s.content, stop_reason: s.stop_reason, ...(s.usage ? { usage: s.usage } : {}) } })));
  const from = api.requests.length;
  return {
    model: new AnthropicModel({ apiKey: FAKE_ANTHROPIC_KEY, baseUrl: api.url, model: 'claude-fake', timeoutMs: 2_000 }),
    received: () => api.requests.slice(from).map((r) => ({ messages: r.body.messages })),
  };
});

languageModelContract('scripted in-memory model', async (steps) => {
  const model = new ScriptedModel(steps.map((s) => (s === 'hang' ? () => new Promise<never>(() => undefined) : s)));
  return { model, received: () => model.requests.map((r) => ({ messages: r.messages })) };
});
