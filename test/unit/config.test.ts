import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { GovernorError } from '../../src/core/errors.ts';

describe('config', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.redisUrl).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
    expect(c.slack.mode).toBe('sandbox');
    expect(c.phase).toBe('govern');
  });

  it('reports every bad key at once, in plain words, without echoing secrets', () => {
    let err: unknown;
    try {
      loadConfig({ REDIS_URL: 'localhost:6379', DATABASE_URL: 'mysql://x', SLACK_BOT_TOKEN: 'xoxp-secret', GOVERNOR_PHASE: 'rule' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GovernorError);
    const msg = (err as GovernorError).message;
    expect((err as GovernorError).code).toBe('config_invalid');
    expect(msg).toMatch(/REDIS_URL: must be a Redis URL/);
    expect(msg).toMatch(/DATABASE_URL: must be a PostgreSQL URL/);
    expect(msg).toMatch(/SLACK_BOT_TOKEN: must be a bot token/);
    expect(msg).toMatch(/GOVERNOR_PHASE/);
    expect(msg).toMatch(/SLACK_SIGNING_SECRET/);
    expect(msg).not.toContain('xoxp-secret');
  });

  it('takes real Slack only with both the token and the signing secret', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_APPROVERS: 'U1, U2' });
    expect(c.slack).toMatchObject({ mode: 'real', approvers: ['U1', 'U2'] });
  });
});
