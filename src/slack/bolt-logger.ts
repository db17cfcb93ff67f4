// Lets Bolt and its Web API client write to the one Governor logger (pino) instead of their own
// console logger.
// Never lets Bolt change the level: the composition root owns it, and Bolt would otherwise reset it to
// `info` in its constructor.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../core/logger.ts';

function toLine(args: unknown[]): { err?: Error; msg: string } {
  let err: Error | undefined;
  const parts: string[] = [];
  for (const a of args) {
    if (a instanceof Error && err === undefined) {
      err = a;
      parts.push(a.message);
    } else parts.push(typeof a === 'string' ? a : safeJson(a));
  }
  return { ...(err ? { err } : {}), msg: parts.join(' ') };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function boltLogger(log: Logger): BoltLogger {
  const write = (level: 'trace' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    if (!log.isLevelEnabled(level)) return;
    const { err, msg } = toLine(args);
    if (err) log[level]({ err }, msg);
    else log[level](msg);
  };
  return {
    // Bolt's debug output is wire dumps (request bodies, headers); it goes to trace so that Governor's
    // own debug logs stay readable.
    debug: write('trace'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: () => {},
    getLevel: () => {
      const l = log.level;
      if (l === 'trace') return LogLevel.DEBUG;
      if (l === 'warn') return LogLevel.WARN;
      if (l === 'error' || l === 'fatal' || l === 'silent') return LogLevel.ERROR;
      return LogLevel.INFO;
    },
    setName: () => {},
  };
}
