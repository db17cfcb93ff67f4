// The console's script, run against a minimal DOM: no browser is available here, so this checks what
// the page builds from a channel state, that message text only ever becomes text nodes, and that a
// button posts the click back to the fake.
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { consolePageHtml } from '../../src/sandbox/slack-console-page.ts';
import { proposalAwaitingApproval, proposalResolved } from '../../src/slack/proposal-message.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';

class El {
  children: Array<El | Txt> = [];
  own = '';
  className = '';
  value = '';
  href = '';
  target = '';
  rel = '';
  disabled = false;
  style: Record<string, string> = {};
  scrollTop = 0;
  clientHeight = 0;
  scrollHeight = 0;
  attrs: Record<string, string> = {};
  listeners: Record<string, () => void> = {};
  constructor(readonly tag: string) {}
  appendChild<T extends El | Txt>(c: T): T {
    this.children.push(c);
    if (this.tag === 'select' && !this.value && c instanceof El) this.value = c.value;
    return c;
  }
  set textContent(t: string) {
    this.children = [];
    this.own = t;
  }
  get textContent(): string {
    return this.own + this.children.map((c) => c.textContent).join('');
  }
  set innerHTML(_: string) {
    throw new Error('the console must never assign innerHTML');
  }
  addEventListener(e: string, f: () => void): void {
    this.listeners[e] = f;
  }
  setAttribute(k: string, v: string): void {
    this.attrs[k] = v;
  }
  getAttribute(k: string): string | null {
    return this.attrs[k] ?? null;
  }
}
class Txt {
  constructor(readonly textContent: string) {}
}

function all(n: El | Txt, pred: (e: El) => boolean, out: El[] = []): El[] {
  if (n instanceof El) {
    if (pred(n)) out.push(n);
    for (const c of n.children) all(c, pred, out);
  }
  return out;
}

describe('sandbox console page', () => {
  it('renders proposals, resolutions and ephemerals as a person would see them', async () => {
    const p = proposalFixture({ reasoning: ['<img src=x onerror=alert(1)> and <!channel>'] });
    const open = proposalAwaitingApproval(p, decisionFixture(p));
    const p2 = proposalFixture({ id: 'p2' });
    const done = proposalResolved(p2, decisionFixture(p2), { outcome: 'approved', user_ids: ['U0ONCALL01'], at_ms: Date.UTC(2026, 10, 24, 10, 3, 7) });
    const state = {
      team: {},
      bot: { id: 'U0GOVBOT', name: 'governor' },
      channels: [{ id: 'C1', name: 'governor-approvals' }],
      connected: true,
      users: [{ id: 'U0ONCALL01', name: 'alice', real_name: 'Alice' }],
      messages: [
        { channel: 'C1', ts: '1795000000.000001', text: open.text, blocks: open.blocks },
        { channel: 'C1', ts: '1795000001.000001', text: done.text, blocks: done.blocks, edited: { ts: '1' } },
      ],
      ephemerals: [
        { channel: 'C1', user: 'U0ONCALL01', ts: '1795000002.000001', text: 'already approved by <@U0ONCALL01>', blocks: [] },
        { channel: 'C1', user: 'U0SOMEONE', ts: '1795000003.000001', text: 'not for alice', blocks: [] },
      ],
    };
    const ids: Record<string, El> = Object.fromEntries(
      ['feed', 'who', 'chan', 'title', 'status', 'toast', 'thread', 'thread-pane', 'home', 'home-view', 'channel-view', 'cmd', 'home-link', 'thread-close', 'composer'].map((id) => [id, new El(id === 'who' ? 'select' : 'div')]),
    );
    const clicks: unknown[] = [];
    const ctx = {
      document: {
        createElement: (t: string) => new El(t),
        createTextNode: (t: string) => new Txt(t),
        getElementById: (id: string) => ids[id],
      },
      fetch: async (url: string, init?: { body: string }) =>
        url === 'console/click'
          ? (clicks.push(JSON.parse(init!.body)), { json: async () => ({ ok: true, status: 200 }) })
          : { text: async () => JSON.stringify(state) },
      setInterval: () => 0,
      setTimeout: () => 0,
      clearTimeout: () => {},
    };
    const script = consolePageHtml({ title: 't' }).split('<script>')[1]!.split('</script>')[0]!;
    runInNewContext(script, ctx);
    await new Promise((r) => setTimeout(r, 20));

    const feed = ids.feed!;
    const text = feed.textContent;
    expect(text).toContain('Elastik proposes: rollback_deployment Deployment/checkout');
    expect(text).toContain('⏳ Awaiting approval');
    expect(text).toContain('✅ Approved by @alice at 2026-11-24 10:03:07 UTC');
    expect(text).toContain('(edited)');
    expect(text).toContain('Only visible to you');
    expect(text).toContain('already approved by @alice');
    expect(text).not.toContain('not for alice');
    // Agent text shows literally, and creates no elements.
    expect(text).toContain('<img src=x onerror=alert(1)> and <!channel>');
    expect(all(feed, (e) => e.tag === 'img' || e.tag === 'script')).toHaveLength(0);

    const buttons = all(feed, (e) => e.tag === 'button');
    expect(buttons.map((b) => `${b.className}:${b.textContent}`)).toEqual(['btn primary:Approve', 'btn danger:Reject']);
    buttons[0]!.listeners.click!();
    await new Promise((r) => setTimeout(r, 20));
    expect(clicks).toEqual([{ ts: '1795000000.000001', actionId: 'proposal_approve', userId: 'U0ONCALL01' }]);
  });
});
