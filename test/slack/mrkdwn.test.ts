// Hostile text from outside — pod names, annotations, config values, log lines, summaries, an LLM's
// reasoning — must reach Slack as text: no channel pings, no disguised links, no forged mentions,
// no reordered or hidden characters. Through the one helper, and through the messages built with it.
import { describe, expect, it } from 'vitest';
import { clip, code, escapeMrkdwn, header, principal, quote, section } from '../../src/slack/mrkdwn.ts';
import { proposalAwaitingApproval } from '../../src/slack/proposal-message.ts';
import { answerText, listText } from '../../src/slack/incident-command.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';

const HOSTILE = [
  '<!channel> the pod is down',
  '<!here|here> <!everyone>',
  '<https://evil.example/login|Approve here>',
  '<@U0ONCALL01> approved this',
  '<!subteam^S0ONCALL|@oncall> please look',
  '@channel @here @everyone wake up',
  'checkout-\u202Egpj.exe',
  'pay\u200Bment <#C0GOVAPPROV|governor-approvals>',
  '&lt;!channel&gt; pre-escaped',
];

/** What Slack would parse as a control sequence: `<` … `>` with a link, mention or command in it. */
const CONTROL = /<[!@#]|<https?:|<mailto:/;

describe('escapeMrkdwn', () => {
  it.each(HOSTILE)('leaves no control sequence, live mass mention or invisible character in %j', (s) => {
    const out = escapeMrkdwn(s);
    expect(out).not.toMatch(CONTROL);
    expect(out).not.toMatch(/[<>]/);
    expect(out).not.toMatch(/@(channel|here|everyone)\b/);
    expect(out).not.toMatch(/[\u200B\u202E]/);
  });

  it('keeps the text readable: entities for Slack to show, the words themselves intact', () => {
    expect(escapeMrkdwn('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(escapeMrkdwn('@channel')).toBe('@\u2060channel');
    // An attacker's own entity is shown as written, never decoded into a control sequence.
    expect(escapeMrkdwn('&lt;!channel&gt;')).toBe('&amp;lt;!channel&amp;gt;');
  });

  it('code, quote and clip keep the escaping: no backtick or line break escapes inline code, no entity is cut in half', () => {
    expect(code('a`b\n<!here>')).toBe("`a'b &lt;!here&gt;`");
    expect(quote('line one\n<!channel>')).toBe('>line one\n>&lt;!channel&gt;');
    expect(clip(escapeMrkdwn('x'.repeat(8) + '<'), 10)).toBe('xxxxxxxx…');
  });

  it('mentions only what the code chose, and only well-formed ids', () => {
    expect(principal('U0ONCALL01')).toBe('<@U0ONCALL01>');
    expect(principal('S0ONCALL')).toBe('<!subteam^S0ONCALL>');
    expect(principal('U1> <!channel')).not.toMatch(CONTROL);
    expect(principal('channel')).toBe('channel');
  });

  it('marks every mrkdwn text verbatim, so Slack links and mentions nothing by itself; headers are plain text', () => {
    expect(section('x')).toMatchObject({ text: { type: 'mrkdwn', verbatim: true } });
    expect(header('checkout\u202E')).toMatchObject({ text: { type: 'plain_text', text: 'checkout' } });
  });
});

describe('hostile text through the messages', () => {
  it('a proposal whose reasoning, target and parameters come from outside', () => {
    const p = proposalFixture({
      reasoning: HOSTILE,
      target: { kind: 'Deployment', name: 'checkout' },
      params: { note: '<!channel>', url: '<https://evil.example|docs>' },
    });
    const json = JSON.stringify(proposalAwaitingApproval(p, decisionFixture(p, { violations: [{ layer: 'sla', rule: '<!here>', message: '<@U0ONCALL01>' }] })));
    expect(json).not.toMatch(CONTROL);
  });

  it('an incident answer and list whose text an LLM and the cluster wrote', () => {
    const answer = answerText({ incident_id: 'inc-<!channel>', answer: 'Rolled back because <https://evil|this>. <!everyone>', source: 'llm', llm: 'used', cites: [{ seq: 1, kind: '<!here>', at: '2026-11-24T10:00:00Z' }] }, 'why <@U0ONCALL01>?');
    expect(answer).not.toMatch(CONTROL);
    const list = listText([{ incident_id: 'i1', tenant: '<!channel>', service: 'acme/<@U1>', opened_at: '2026-11-24T10:00:00Z', resolved_at: null, severity: 'critical', summary: '<https://evil|x>' }]);
    expect(list.replace(/<!date\^[^>]*>/g, '')).not.toMatch(CONTROL);
  });
});
