// The paging seam's contract (src/paging/paging-service.ts), run against every implementation: the
// pdjs one against the HTTPS fake of the Events API, and the in-memory one. What a caller may rely on
// whichever is configured: a receipt naming the dedup key for every accepted event; a trigger sent
// twice is one alert; acknowledge and resolve of a key with no alert are accepted; and the events
// PagerDuty refuses are refused with input_invalid, which is not retryable.
import { describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import type { PagingService, TriggerEvent } from '../../src/paging/paging-service.ts';

export interface PagingHarness {
  paging: PagingService;
  /** The open alerts, by dedup key, as the service behind the implementation holds them. */
  openAlerts(): Promise<string[]>;
}

const trigger = (dedup_key: string, over: Partial<TriggerEvent> = {}): TriggerEvent => ({
  dedup_key,
  summary: 'Approval needed: elastik proposes rollback_deployment of acme-prod/checkout',
  source: 'acme-prod/checkout',
  severity: 'critical',
  timestamp: '2026-11-24T10:01:30.000Z',
  component: 'checkout',
  group: 'acme',
  class: 'rollback_deployment',
  links: [{ href: 'https://slack.com/archives/C0123/p1764000000000100', text: 'Approve or reject in Slack' }],
  custom_details: { proposal_id: dedup_key, params: { to_revision: 1 } },
  ...over,
});

/** The GovernorError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function refusal(p: Promise<unknown>): Promise<GovernorError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GovernorError);
    return err as GovernorError;
  }
  throw new Error('expected a coded failure');
}

export function pagingServiceContract(name: string, setup: () => Promise<PagingHarness & { close(): Promise<void> }>): void {
  describe(`paging service contract: ${name}`, () => {
    const withHarness = (fn: (h: PagingHarness) => Promise<void>) => async () => {
      const h = await setup();
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    };

    it('accepts a trigger and answers with its dedup key; the alert is open', withHarness(async (h) => {
      const r = await h.paging.trigger(trigger('proposal-1'));
      expect(r.dedup_key).toBe('proposal-1');
      expect(r.message).toMatch(/\S/);
      expect(await h.openAlerts()).toEqual(['proposal-1']);
    }));

    it('is idempotent by dedup key: the same trigger twice is one alert', withHarness(async (h) => {
      await h.paging.trigger(trigger('proposal-2'));
      const again = await h.paging.trigger(trigger('proposal-2'));
      expect(again.dedup_key).toBe('proposal-2');
      expect(await h.openAlerts()).toEqual(['proposal-2']);
    }));

    it('acknowledges and resolves by dedup key; a trigger after the resolve opens a new alert', withHarness(async (h) => {
      await h.paging.trigger(trigger('incident-1'));
      expect((await h.paging.acknowledge('incident-1')).dedup_key).toBe('incident-1');
      expect(await h.openAlerts()).toEqual(['incident-1']);
      expect((await h.paging.resolve('incident-1')).dedup_key).toBe('incident-1');
      expect(await h.openAlerts()).toEqual([]);
      await h.paging.trigger(trigger('incident-1'));
      expect(await h.openAlerts()).toEqual(['incident-1']);
    }));

    it('accepts acknowledge and resolve of a key with no open alert (PagerDuty drops them)', withHarness(async (h) => {
      expect((await h.paging.resolve('never-triggered')).dedup_key).toBe('never-triggered');
      expect((await h.paging.acknowledge('never-triggered')).dedup_key).toBe('never-triggered');
      expect(await h.openAlerts()).toEqual([]);
    }));

    it('refuses what PagerDuty refuses, with input_invalid, not retryable', withHarness(async (h) => {
      const cases: TriggerEvent[] = [
        trigger('bad-1', { summary: '   ' }),
        trigger('bad-2', { summary: 'x'.repeat(1025) }),
        trigger('bad-3', { source: '' }),
        trigger('bad-4', { severity: 'fatal' as TriggerEvent['severity'] }),
        trigger('x'.repeat(256)),
      ];
      for (const c of cases) {
        const err = await refusal(h.paging.trigger(c));
        expect(err.code, c.dedup_key.slice(0, 10)).toBe('input_invalid');
        expect(err.retryable).toBe(false);
      }
      expect(await h.openAlerts()).toEqual([]);
    }));

    it('abandons a call whose caller already stopped, as retryable', withHarness(async (h) => {
      const ac = new AbortController();
      ac.abort();
      const err = await refusal(h.paging.trigger(trigger('late'), { signal: ac.signal }));
      expect(err.code).toBe('upstream_unavailable');
      expect(err.retryable).toBe(true);
      expect(await h.openAlerts()).toEqual([]);
    }));
  });
}
