// Wires the real Governor Slack app to the local Slack fake, for `npm start` without credentials and
// for the demo: the fake's Web API URL goes to the app, the app's interactions URL goes to the fake.
// Nothing else differs from production, and this file must keep it that way: no shortcut that
// delivers a decision without a signed request through Bolt.
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../core/logger.ts';
import { httpTransport } from '../slack/slack-transport.ts';
import { createSlackApp, type GovernorSlackApp, type SlackAppOptions } from '../slack/slack-app.ts';
import { SANDBOX_CHANNEL, SANDBOX_USERS, startSlackWebApiFake, type FakeUser, type FakeUserGroup, type SlackFake } from './slack-web-api-fake.ts';

export interface SlackSandbox {
  app: GovernorSlackApp;
  fake: SlackFake;
  /** Open this in a browser to see the channel and click Approve / Reject. */
  consoleUrl: string;
  stop(): Promise<void>;
}

export async function startSlackSandbox(opts: {
  /** Channel name (or id) the app posts to; the fake creates it. */
  channel?: string;
  /** Port of the console (and of the fake Web API); 0 picks a free one. */
  consolePort?: number;
  host?: string;
  users?: readonly FakeUser[];
  groups?: readonly FakeUserGroup[];
  approvals: SlackAppOptions['approvals'];
  autonomy?: SlackAppOptions['autonomy'];
  replayGuard?: SlackAppOptions['replayGuard'];
  threadOf?: SlackAppOptions['threadOf'];
  observations?: SlackAppOptions['observations'];
  home?: SlackAppOptions['home'];
  incidents?: SlackAppOptions['incidents'];
  logger?: Logger;
}): Promise<SlackSandbox> {
  // Fresh secrets per run: nothing outside this process can sign a click or call the fake.
  const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(32).toString('hex');
  const name = (opts.channel ?? SANDBOX_CHANNEL.name).replace(/^#/, '');
  const channel = /^C[A-Z0-9]{8,}$/.test(name) ? { id: name, name: 'governor-approvals' } : { id: SANDBOX_CHANNEL.id, name };
  const fake = await startSlackWebApiFake({
    botToken,
    signingSecret,
    ...(opts.consolePort === undefined ? {} : { port: opts.consolePort }),
    ...(opts.host === undefined ? {} : { host: opts.host }),
    channels: [channel],
    users: opts.users ?? SANDBOX_USERS,
    ...(opts.groups ? { groups: opts.groups } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  let app: GovernorSlackApp | undefined;
  try {
    app = await createSlackApp({
      botToken,
      transport: httpTransport({ signingSecret, port: 0, ...(opts.host === undefined ? {} : { host: opts.host }), logger: opts.logger ?? silentLogger() }),
      slackApiUrl: fake.apiUrl,
      channel: channel.id,
      approvals: opts.approvals,
      ...(opts.autonomy ? { autonomy: opts.autonomy } : {}),
      ...(opts.replayGuard ? { replayGuard: opts.replayGuard } : {}),
      ...(opts.threadOf ? { threadOf: opts.threadOf } : {}),
      ...(opts.observations ? { observations: opts.observations } : {}),
      ...(opts.home ? { home: opts.home } : {}),
      ...(opts.incidents ? { incidents: opts.incidents } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    const { url } = await app.start();
    fake.setInteractionsUrl(url);
  } catch (err) {
    await app?.stop().catch(() => {});
    await fake.close();
    throw err;
  }
  const started = app;
  return {
    app: started,
    fake,
    consoleUrl: fake.consoleUrl,
    async stop() {
      await started.stop();
      await fake.close();
    },
  };
}
