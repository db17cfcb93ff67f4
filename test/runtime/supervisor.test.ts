// The supervisor with real child processes: restarts what exits, with a backoff that doubles, says
// when a child is crash-looping, and stops everything it started.
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorEvent } from '../../src/runtime/supervisor.ts';

let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop();
  sup = undefined;
});

const until = async (cond: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('supervisor', () => {
  it('restarts a child that is killed, with a new pid, and leaves the others alone', async () => {
    const events: SupervisorEvent[] = [];
    sup = new Supervisor({
      command: process.execPath, baseArgs: ['-e'],
      children: [
        { name: 'a', args: ['setInterval(() => {}, 1000)'], env: process.env },
        { name: 'b', args: ['setInterval(() => {}, 1000)'], env: process.env },
      ],
      onEvent: (e) => events.push(e), initialBackoffMs: 50,
    });
    sup.start();
    await until(() => Object.values(sup!.pids()).every((p) => p !== undefined));
    const before = sup.pids();
    expect(new Set(Object.values(before)).size).toBe(2);
    process.kill(before['a']!, 'SIGKILL');
    await until(() => sup!.restarts('a') === 1 && sup!.pids()['a'] !== undefined);
    expect(sup.pids()['a']).not.toBe(before['a']);
    expect(sup.pids()['b']).toBe(before['b']);
    expect(events.find((e) => e.kind === 'exited')).toMatchObject({ name: 'a', signal: 'SIGKILL', restartInMs: 50 });
  });

  it('doubles the backoff on quick exits and reports a crash loop from the third exit', async () => {
    const events: SupervisorEvent[] = [];
    sup = new Supervisor({
      command: process.execPath, baseArgs: ['-e'],
      children: [{ name: 'broken', args: ['process.exit(3)'], env: process.env }],
      onEvent: (e) => events.push(e), initialBackoffMs: 20, maxBackoffMs: 80, crashLoopExits: 3, crashLoopWindowMs: 60_000,
    });
    sup.start();
    await until(() => events.filter((e) => e.kind === 'exited').length >= 4);
    const exits = events.filter((e): e is Extract<SupervisorEvent, { kind: 'exited' }> => e.kind === 'exited');
    expect(exits.slice(0, 4).map((e) => e.restartInMs)).toEqual([20, 40, 80, 80]);
    expect(exits[0]).toMatchObject({ code: 3, signal: null });
    const loops = events.filter((e) => e.kind === 'crash_loop');
    expect(loops[0]).toMatchObject({ name: 'broken', exits: 3, last: 'exit code 3' });
  });

  it('stops every child it started and restarts none after', async () => {
    const events: SupervisorEvent[] = [];
    sup = new Supervisor({
      command: process.execPath, baseArgs: ['-e'],
      // Ignores SIGTERM: stopped by SIGKILL after the grace.
      children: [{ name: 'stubborn', args: ["process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], env: process.env }],
      onEvent: (e) => events.push(e), stopGraceMs: 300,
    });
    sup.start();
    await until(() => sup!.pids()['stubborn'] !== undefined);
    const pid = sup.pids()['stubborn']!;
    await sup.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(events.some((e) => e.kind === 'exited')).toBe(false);
    sup = undefined;
  });
});
