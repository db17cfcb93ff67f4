// The one logger. Keys shared across the code base: tenant, agent, proposal_id, incident_id,
// stream, tool. Ids and names only, never secrets or tokens.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? 'info';
  return pino(
    { level, name: opts.name ?? 'governor', redact: ['token', 'authorization', 'signing_secret', '*.token'] },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}

/** A logger that drops everything: for tests and for the demo's quiet mode. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
