// manifest.yml against what the app really registers: every slash command, every event and the
// interactivity its buttons need, the scopes its Web API calls take, Socket Mode and the App Home.
// The app is built with every feature; Bolt's own registration methods are watched while it is.
import { readFileSync } from 'node:fs';
import { App } from '@slack/bolt';
import { load } from 'js-yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { createSlackApp } from '../../src/slack/slack-app.ts';
import { httpTransport } from '../../src/slack/slack-transport.ts';

interface Manifest {
  features: {
    app_home: { home_tab_enabled: boolean };
    slash_commands: Array<{ command: string; description: string; usage_hint?: string }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
}

const manifest = load(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')) as Manifest;

afterEach(() => vi.restoreAllMocks());

async function registered() {
  const commands: string[] = [];
  const actions: string[] = [];
  const events: string[] = [];
  vi.spyOn(App.prototype, 'command').mockImplementation(function (this: App, name: unknown) {
    commands.push(String(name));
    return this;
  } as never);
  vi.spyOn(App.prototype, 'action').mockImplementation(function (this: App, c: unknown) {
    actions.push((c as { action_id: string }).action_id);
    return this;
  } as never);
  vi.spyOn(App.prototype, 'event').mockImplementation(function (this: App, name: unknown) {
    events.push(String(name));
    return this;
  } as never);
  const unexpected = async () => { throw new Error('not called while registering'); };
  await createSlackApp({
    transport: httpTransport({ signingSecret: 's', port: 0, logger: silentLogger() }),
    botToken: 'xoxb-manifest-test',
    channel: 'governor-approvals',
    logger: silentLogger(),
    approvals: { vote: unexpected, overrideFreeze: unexpected, may: unexpected, refuse: unexpected },
    autonomy: { phase: 'govern', statuses: () => [], setLevel: unexpected, pause: unexpected },
    incidents: { list: unexpected, timeline: unexpected, explain: unexpected },
    observations: { answer: unexpected },
    home: { view: unexpected },
    threadOf: unexpected,
  });
  return { commands, actions, events };
}

describe('manifest.yml', () => {
  it('advertises exactly the slash commands the app serves, each with a description and usage', async () => {
    const { commands } = await registered();
    const advertised = manifest.features.slash_commands.map((c) => c.command);
    expect(commands.sort()).toEqual(['/agents-level', '/agents-override-freeze', '/agents-pause', '/incident']);
    expect([...advertised].sort()).toEqual([...commands].sort());
    for (const c of manifest.features.slash_commands) {
      expect(c.description.length, c.command).toBeGreaterThan(10);
      expect(c.usage_hint, c.command).toBeTruthy();
    }
    expect(manifest.features.slash_commands.find((c) => c.command === '/incident')!.usage_hint).toMatch(/list \| timeline <id\|latest> \| explain/);
  });

  it('subscribes to every event the app listens to, and enables the interactivity its buttons need', async () => {
    const { actions, events } = await registered();
    expect(actions.sort()).toEqual(['observation_confirm', 'observation_false_alarm', 'observation_page', 'proposal_approve', 'proposal_reject']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(events).toEqual(['app_home_opened']);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(expect.arrayContaining(events));
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });

  it('asks for the scopes the Web API calls take, and runs in Socket Mode as written', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['chat:write', 'chat:write.public', 'commands', 'users:read', 'usergroups:read', 'files:write', 'app_mentions:read']),
    );
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});
