import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { DEFAULT_TENANTS_FILE } from '../../src/governance/tenants.ts';

function configProblems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(GovernorError);
    expect((err as GovernorError).code).toBe('config_invalid');
    return (err as GovernorError).message;
  }
  throw new Error('expected the configuration to be refused');
}

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

  it("takes PagerDuty's hosts as host[:port] (always HTTPS, PagerDuty's own by default) and a 32-character routing key, never echoing it", () => {
    expect(loadConfig({}).pagerduty).toEqual({ routingKey: undefined, eventsHost: 'events.pagerduty.com', apiToken: undefined, apiHost: 'api.pagerduty.com' });
    const key = 'R0123456789abcdef0123456789abcde';
    const c = loadConfig({ PAGERDUTY_ROUTING_KEY: key, PAGERDUTY_EVENTS_HOST: '127.0.0.1:8443', PAGERDUTY_API_TOKEN: 't0ken', PAGERDUTY_API_HOST: '[::1]:9443' });
    expect(c.pagerduty).toEqual({ routingKey: key, eventsHost: '127.0.0.1:8443', apiToken: 't0ken', apiHost: '[::1]:9443' });
    const msg = configProblems({ PAGERDUTY_ROUTING_KEY: 'short-secret', PAGERDUTY_EVENTS_HOST: 'https://events.pagerduty.com', PAGERDUTY_API_HOST: 'api.pagerduty.com/v2' });
    expect(msg).toMatch(/PAGERDUTY_ROUTING_KEY: must be the 32-character integration key/);
    expect(msg).toMatch(/PAGERDUTY_EVENTS_HOST: must be host\[:port\] without a scheme or path/);
    expect(msg).toMatch(/PAGERDUTY_API_HOST: must be host\[:port\]/);
    expect(msg).not.toContain('short-secret');
  });

  it('takes Socket Mode with an app-level token (no signing secret, no endpoint needed); refuses a half-configured Slack', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-A1-2-abc' });
    expect(c.slack).toMatchObject({ mode: 'real', connection: 'socket', appToken: 'xapp-1-A1-2-abc', signingSecret: undefined });
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }).slack).toMatchObject({ connection: 'http' });
    expect(configProblems({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-not-app-level' })).toMatch(/SLACK_APP_TOKEN: must be an app-level token starting with 'xapp-'/);
    expect(configProblems({ SLACK_APP_TOKEN: 'xapp-1-A1-2-abc' })).toMatch(/SLACK_BOT_TOKEN: SLACK_APP_TOKEN goes with SLACK_BOT_TOKEN/);
    expect(configProblems({ SLACK_BOT_TOKEN: 'xoxb-1' })).toMatch(/SLACK_SIGNING_SECRET: SLACK_BOT_TOKEN needs SLACK_SIGNING_SECRET \(HTTP mode\) or SLACK_APP_TOKEN \(Socket Mode\)/);
    expect(configProblems({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxp-secret-value' })).not.toContain('xoxp-secret-value');
  });

  it('takes the language model only with a key: its base URL, model and timeout; without a key, none (the rules)', () => {
    expect(loadConfig({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', GOVERNOR_LLM_MODEL: 'm' }).llm).toBeUndefined();
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-x' }).llm).toEqual({ apiKey: 'sk-ant-x', baseUrl: undefined, model: 'claude-sonnet-5-5', timeoutMs: 8000 });
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-x', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', GOVERNOR_LLM_MODEL: 'claude-x', GOVERNOR_LLM_TIMEOUT_MS: '2500' }).llm)
      .toEqual({ apiKey: 'sk-ant-x', baseUrl: 'http://127.0.0.1:9', model: 'claude-x', timeoutMs: 2500 });
    const msg = configProblems({ ANTHROPIC_API_KEY: 'sk-ant-secret', ANTHROPIC_BASE_URL: 'api.anthropic.com', GOVERNOR_LLM_TIMEOUT_MS: '10' });
    expect(msg).toMatch(/ANTHROPIC_BASE_URL: must be a HTTP URL/);
    expect(msg).toMatch(/GOVERNOR_LLM_TIMEOUT_MS/);
    expect(msg).not.toContain('sk-ant-secret');
  });

  it('refuses SLACK_APPROVERS, which no longer restricts anything, instead of ignoring it', () => {
    expect(() => loadConfig({ SLACK_APPROVERS: 'U1,U2' })).toThrow(/SLACK_APPROVERS: is no longer read: approvers are configured in the tenants file/);
    expect(() => loadConfig({ SLACK_API_URL: 'slack.com/api' })).toThrow(/SLACK_API_URL: must be a HTTP URL/);
  });
});

describe('files named by configuration, checked at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'governor-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pem = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const edPrivate = pem('ed.pem', ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const edPublic = pem('ed.pub.pem', ed.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const rsaPrivate = pem('rsa.pem', rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
  const rsaPublic = pem('rsa.pub.pem', rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const weakPublic = pem('weak.pub.pem', weak.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const notAKey = pem('note.txt', 'hello\n');

  it('accepts every key of the right kind', () => {
    const c = loadConfig({
      GOVERNOR_GRANT_KEY_FILE: edPrivate,
      GOVERNOR_GRANT_PUBLIC_KEY_FILE: edPublic,
      GOVERNOR_AUDIT_KEY_FILE: edPrivate,
      GOVERNOR_AUDIT_PUBLIC_KEY_FILE: edPublic,
      GOVERNOR_POLICY_PUBLIC_KEY_FILE: rsaPublic,
      GOVERNOR_AUDIT_CHECKPOINT_INTERVAL_S: '15',
    });
    expect(c.audit).toEqual({ keyFile: edPrivate, publicKeyFile: edPublic, checkpointFile: undefined, checkpointIntervalS: 15 });
    expect(c.policyPublicKeyFile).toBe(rsaPublic);
    expect(loadConfig({}).audit.checkpointIntervalS).toBe(60);
  });

  it('refuses a private key where a public key belongs, naming the variable', () => {
    const msg = configProblems({ GOVERNOR_GRANT_PUBLIC_KEY_FILE: edPrivate });
    expect(msg).toContain(`GOVERNOR_GRANT_PUBLIC_KEY_FILE: ${edPrivate} holds a private key`);
    expect(configProblems({ GOVERNOR_AUDIT_PUBLIC_KEY_FILE: edPrivate })).toContain(`GOVERNOR_AUDIT_PUBLIC_KEY_FILE: ${edPrivate} holds a private key`);
    expect(configProblems({ GOVERNOR_POLICY_PUBLIC_KEY_FILE: rsaPrivate })).toContain(`GOVERNOR_POLICY_PUBLIC_KEY_FILE: ${rsaPrivate} holds a private key`);
  });

  it('refuses a public key or another algorithm where an Ed25519 signing key belongs', () => {
    expect(configProblems({ GOVERNOR_GRANT_KEY_FILE: edPublic })).toContain(`GOVERNOR_GRANT_KEY_FILE: ${edPublic} holds a public key; it must hold an Ed25519 private key`);
    expect(configProblems({ GOVERNOR_GRANT_KEY_FILE: rsaPrivate })).toContain(`GOVERNOR_GRANT_KEY_FILE: ${rsaPrivate} holds an RSA key; it must hold an Ed25519 private key`);
    expect(configProblems({ GOVERNOR_AUDIT_KEY_FILE: edPublic })).toContain(`GOVERNOR_AUDIT_KEY_FILE: ${edPublic} holds a public key`);
    expect(configProblems({ GOVERNOR_AUDIT_KEY_FILE: rsaPrivate })).toContain(`GOVERNOR_AUDIT_KEY_FILE: ${rsaPrivate} holds an RSA key`);
    expect(configProblems({ GOVERNOR_AUDIT_PUBLIC_KEY_FILE: rsaPublic })).toContain(`GOVERNOR_AUDIT_PUBLIC_KEY_FILE: ${rsaPublic} holds an RSA key; it must hold an Ed25519 public key`);
    expect(configProblems({ GOVERNOR_POLICY_PUBLIC_KEY_FILE: edPublic })).toContain(`GOVERNOR_POLICY_PUBLIC_KEY_FILE: ${edPublic} holds an Ed25519 key; it must hold an RSA public key`);
    expect(configProblems({ GOVERNOR_POLICY_PUBLIC_KEY_FILE: weakPublic })).toContain('RSA key of 1024 bits; at least 2048');
    expect(configProblems({ GOVERNOR_GRANT_KEY_FILE: notAKey })).toContain(`GOVERNOR_GRANT_KEY_FILE: ${notAKey} does not hold a PEM key`);
  });

  it('reports every file problem together with the other keys, and never prints key material', () => {
    const msg = configProblems({
      REDIS_URL: 'nope',
      GOVERNOR_GRANT_PUBLIC_KEY_FILE: edPrivate,
      GOVERNOR_AUDIT_KEY_FILE: join(dir, 'absent.pem'),
      GOVERNOR_POLICY_BUNDLE: join(dir, 'absent.tar.gz'),
      GOVERNOR_TENANTS_FILE: pem('empty-tenants.json', JSON.stringify({ tenants: {} })),
    });
    expect(msg).toMatch(/REDIS_URL: must be a Redis URL/);
    expect(msg).toContain('GOVERNOR_GRANT_PUBLIC_KEY_FILE:');
    expect(msg).toContain(`GOVERNOR_AUDIT_KEY_FILE: ${join(dir, 'absent.pem')} does not exist`);
    expect(msg).toContain(`GOVERNOR_POLICY_BUNDLE: there is no policy bundle file at ${join(dir, 'absent.tar.gz')}`);
    expect(msg).not.toMatch(/ENOENT/);
    expect(msg).toMatch(/GOVERNOR_TENANTS_FILE: tenants file .*empty-tenants\.json is invalid:\n\s+- tenants: names no tenant/);
    expect(msg).not.toContain('PRIVATE KEY');
  });

  it('accepts the shipped tenants file', () => {
    expect(loadConfig({ GOVERNOR_TENANTS_FILE: DEFAULT_TENANTS_FILE }).tenantsFile).toBe(DEFAULT_TENANTS_FILE);
  });
});
