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

  it('takes real Slack only with both the token and the signing secret; it binds every interface unless told', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
    expect(c.slack).toMatchObject({ mode: 'real', host: '0.0.0.0', port: 3100, apiUrl: undefined });
    const local = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_HOST: '127.0.0.1', SLACK_PORT: '8080', SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    expect(local.slack).toMatchObject({ mode: 'real', host: '127.0.0.1', port: 8080, apiUrl: 'http://127.0.0.1:9/api/' });
  });

  it('refuses SLACK_APPROVERS, which no longer restricts anything, instead of ignoring it', () => {
    expect(() => loadConfig({ SLACK_APPROVERS: 'U1,U2' })).toThrow(/SLACK_APPROVERS: is no longer read: approvers are configured in the tenants file/);
    expect(() => loadConfig({ SLACK_API_URL: 'slack.com/api' })).toThrow(/SLACK_API_URL: must be a HTTP URL/);
  });
});
