// The Slack acknowledgement bench, short: every signed click is acknowledged with 200 through the
// real app and does its work after the ack (a refusal recorded, an ephemeral posted), and the floor
// is measured in the same run. The latency target itself is the bench's business, not a test's: it
// depends on the machine.
import { describe, expect, it } from 'vitest';
import { benchSlack } from '../../src/bench/slack-bench.ts';

describe('governor bench slack', () => {
  it('acknowledges every signed click, does the work after each ack, and measures the floor beside it', async () => {
    const r = await benchSlack({ ratePerS: 20, durationS: 1, databaseUrl: process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test' });
    expect(r.ack).toMatchObject({ requests: 20, errors: 0 });
    expect(r.floor).toMatchObject({ requests: 20, errors: 0 });
    expect(r.ack.p50_ms).toBeGreaterThan(0);
    expect(r.floor.p50_ms).toBeGreaterThan(0);
    expect(r.after_ack).toEqual({ refusals_recorded: 20, ephemerals_posted: 20 });
    expect(r.met).toBe(r.ack.p99_ms < 100);
  }, 60_000);
});
