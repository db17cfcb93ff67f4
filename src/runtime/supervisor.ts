// Child processes kept running: each is started, and restarted when it exits without being asked
// to, after a backoff that doubles with every quick exit (from 0.5 s up to 30 s) and starts over
// once a child has run for a minute. A child that exits three times within two minutes is in a
// crash loop: that is reported (the caller announces it in Slack) on every further exit until it
// stays up. Stopping sends SIGTERM to all, and SIGKILL to whatever still runs 15 s later.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildSpec {
  /** Unique among the children: `elastik`, `gateway-2`. */
  name: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
}

export type SupervisorEvent =
  | { kind: 'started'; name: string; pid: number; restarts: number }
  | { kind: 'exited'; name: string; pid: number; code: number | null; signal: NodeJS.Signals | null; restartInMs: number }
  | { kind: 'crash_loop'; name: string; exits: number; windowMs: number; restartInMs: number; last: string };

export interface SupervisorOptions {
  /** The program every child runs (node), and the arguments before each child's own. */
  command: string;
  baseArgs: readonly string[];
  children: readonly ChildSpec[];
  onEvent: (e: SupervisorEvent) => void;
  /** Each line a child writes, with its name. */
  onLine?: (name: string, stream: 'stdout' | 'stderr', line: string) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that ran this long is healthy again: its backoff starts over. */
  healthyAfterMs?: number;
  crashLoopExits?: number;
  crashLoopWindowMs?: number;
  stopGraceMs?: number;
}

interface Running {
  spec: ChildSpec;
  proc: ChildProcess | undefined;
  startedAt: number;
  restarts: number;
  backoffMs: number;
  exits: number[];
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

export class Supervisor {
  private readonly children = new Map<string, Running>();
  private stopping = false;

  constructor(private readonly opts: SupervisorOptions) {
    const names = new Set<string>();
    for (const c of opts.children) {
      if (names.has(c.name)) throw new Error(`two children named ${c.name}`);
      names.add(c.name);
    }
  }

  start(): void {
    for (const spec of this.opts.children) {
      const r: Running = { spec, proc: undefined, startedAt: 0, restarts: 0, backoffMs: this.opts.initialBackoffMs ?? 500, exits: [], timer: undefined, exited: Promise.resolve() };
      this.children.set(spec.name, r);
      this.launch(r);
    }
  }

  /** The pid of each child now running (undefined while it waits to be restarted). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.children].map(([name, r]) => [name, r.proc?.exitCode === null && r.proc.signalCode === null ? r.proc.pid : undefined]));
  }

  restarts(name: string): number {
    return this.children.get(name)?.restarts ?? 0;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.children.values()];
    for (const r of all) {
      if (r.timer) clearTimeout(r.timer);
      r.proc?.kill('SIGTERM');
    }
    const grace = setTimeout(() => {
      for (const r of all) if (r.proc && r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    }, this.opts.stopGraceMs ?? 15_000);
    await Promise.all(all.map((r) => r.exited));
    clearTimeout(grace);
  }

  private launch(r: Running): void {
    r.timer = undefined;
    if (this.stopping) return;
    const proc = spawn(this.opts.command, [...this.opts.baseArgs, ...r.spec.args], { env: r.spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    r.proc = proc;
    r.startedAt = Date.now();
    r.exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: proc[stream]! });
      rl.on('line', (line) => this.opts.onLine?.(r.spec.name, stream, line));
    }
    proc.once('spawn', () => this.opts.onEvent({ kind: 'started', name: r.spec.name, pid: proc.pid!, restarts: r.restarts }));
    proc.once('error', () => undefined); // a failed spawn also closes; handled there
    proc.once('close', (code, signal) => this.onExit(r, proc, code, signal));
  }

  private onExit(r: Running, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const now = Date.now();
    const healthy = this.opts.healthyAfterMs ?? 60_000;
    if (now - r.startedAt >= healthy) r.backoffMs = this.opts.initialBackoffMs ?? 500;
    const window = this.opts.crashLoopWindowMs ?? 120_000;
    r.exits = [...r.exits.filter((t) => now - t < window), now];
    const delay = r.backoffMs;
    r.backoffMs = Math.min(r.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    this.opts.onEvent({ kind: 'exited', name: r.spec.name, pid: proc.pid ?? -1, code, signal, restartInMs: delay });
    if (r.exits.length >= (this.opts.crashLoopExits ?? 3)) {
      this.opts.onEvent({ kind: 'crash_loop', name: r.spec.name, exits: r.exits.length, windowMs: window, restartInMs: delay, last: signal ? `killed by ${signal}` : `exit code ${code}` });
    }
    r.restarts++;
    r.timer = setTimeout(() => this.launch(r), delay);
  }
}
