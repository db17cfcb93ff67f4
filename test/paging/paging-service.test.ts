// The paging seam's two implementations through one contract suite — pdjs against the HTTPS fake of
// the Events API (the fake's CA trusted in process through an agent), and memory — and then what
// only the pdjs one meets: PagerDuty's wire format, its failures (500, 429, a hang, an untrusted or
// unreachable host) as coded errors within the configured time, and never the routing key in one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryPagingService } from '../../src/paging/memory-paging.ts';
import { PdjsPagingService } from '../../src/paging/pdjs-paging.ts';
import { FAKE_ROUTING_KEY, startPagerDutyFake, type PagerDutyFake } from './pagerduty-fake.ts';
import { pagingServiceContract, refusal } from './paging-service.contract.ts';

pagingServiceContract('pdjs against the HTTPS fake of the Events API', async () => {
  const fake = await startPagerDutyFake();
  const paging = new PdjsPagingService({ routingKey: FAKE_ROUTING_KEY, host: fake.host, caPem: fake.caPem });
  return {
    paging,
    openAlerts: async () => fake.openAlerts(),
    close: () => fake.close(),
  };
});

pagingServiceContract('memory', async () => {
  const paging = new MemoryPagingService();
  return { paging, openAlerts: async () => paging.openAlerts().map((a) => a.dedup_key), close: async () => {} };
});

describe('pdjs paging against the HTTPS fake', () => {
  let fake: PagerDutyFake;
  beforeAll(async () => {
    fake = await startPagerDutyFake();
  });
  afterAll(async () => {
    await fake.close();
  });
  const client = (over: Partial<ConstructorParameters<typeof PdjsPagingService>[0]> = {}) =>
    new PdjsPagingService({ routingKey: FAKE_ROUTING_KEY, host: fake.host, caPem: fake.caPem, limits: { timeoutMs: 1_500, retryAfter429Ms: 10 }, ...over });

  it('speaks the Events API v2 wire format: a trigger with its payload and links, a resolve with the key alone', async () => {
    const before = fake.accepted().length;
    await client().trigger({
      dedup_key: 'wire-1', summary: 'Approval needed', source: 'acme-prod/checkout', severity: 'error', component: 'checkout', group: 'acme', class: 'rollback_deployment',
      links: [{ href: 'https://slack.com/archives/C1/p1', text: 'Slack' }], custom_details: { proposal_id: 'wire-1' }, timestamp: '2026-11-24T10:00:00.000Z',
    });
    await client().resolve('wire-1');
    const [t, r] = fake.accepted().slice(before);
    expect(t!.body).toEqual({
      routing_key: FAKE_ROUTING_KEY, event_action: 'trigger', dedup_key: 'wire-1',
      payload: { summary: 'Approval needed', source: 'acme-prod/checkout', severity: 'error', timestamp: '2026-11-24T10:00:00.000Z', component: 'checkout', group: 'acme', class: 'rollback_deployment', custom_details: { proposal_id: 'wire-1' } },
      links: [{ href: 'https://slack.com/archives/C1/p1', text: 'Slack' }],
    });
    expect(r!.body).toEqual({ routing_key: FAKE_ROUTING_KEY, event_action: 'resolve', dedup_key: 'wire-1' });
  });

  it('turns a 500 into a retryable upstream_unavailable, naming the status', async () => {
    fake.fail({ status: 500, times: 1 });
    const err = await refusal(client().trigger({ dedup_key: 'f-500', summary: 's', source: 'x', severity: 'info' }));
    expect(err).toMatchObject({ code: 'upstream_unavailable', retryable: true, details: { status: 500 } });
  });

  it('lets pdjs retry a 429 three times, then reports it throttled (retryable)', async () => {
    const before = fake.requests().length;
    fake.fail({ status: 429, times: 4 });
    const err = await refusal(client().trigger({ dedup_key: 'f-429', summary: 's', source: 'x', severity: 'info' }));
    expect(err).toMatchObject({ code: 'upstream_unavailable', retryable: true, details: { status: 429 } });
    expect(fake.requests().length - before).toBe(4);
    // A throttle that clears within pdjs's retries is a success.
    fake.fail({ status: 429, times: 2 });
    expect((await client().trigger({ dedup_key: 'f-429b', summary: 's', source: 'x', severity: 'info' })).dedup_key).toBe('f-429b');
  });

  it('gives up on a PagerDuty that hangs within its timeout, as a retryable timeout', async () => {
    fake.fail({ hang: true, times: 1 });
    const started = Date.now();
    const err = await refusal(client({ limits: { timeoutMs: 300, retryAfter429Ms: 10 } }).trigger({ dedup_key: 'f-hang', summary: 's', source: 'x', severity: 'info' }));
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a host whose certificate it does not trust, saying where a private CA goes; not retryable', async () => {
    const err = await refusal(client({ caPem: undefined }).trigger({ dedup_key: 'f-tls', summary: 's', source: 'x', severity: 'info' }));
    expect(err).toMatchObject({ code: 'upstream_unavailable', retryable: false });
    expect(err.message).toMatch(/NODE_EXTRA_CA_CERTS/);
  });

  it('reports an unreachable host as retryable, and an unknown routing key as refused; never the key itself', async () => {
    const down = await refusal(client({ host: '127.0.0.1:1' }).resolve('f-down'));
    expect(down).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    const wrongKey = 'WRONGKEY0000000000000000000000ZZ';
    const refused = await refusal(client({ routingKey: wrongKey }).resolve('f-key'));
    expect(refused).toMatchObject({ code: 'input_invalid', retryable: false });
    for (const e of [down, refused]) expect(`${e.message} ${JSON.stringify(e.details)}`).not.toMatch(new RegExp(`${FAKE_ROUTING_KEY}|${wrongKey}`));
  });
});
