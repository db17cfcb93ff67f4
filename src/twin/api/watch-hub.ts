// The watch side of the twin's Kubernetes API: every change the twin reports (ClusterTwin.watch),
// kept in a bounded log by resourceVersion so that a client can list at version N and then watch
// from N without missing anything — what kubectl `get -w`, informers and client-node's Watch rely
// on. A watch from a version the log no longer holds is refused as "too old" (410 Expired), as the
// API server's watch cache does, and the client re-lists. It holds no object state of its own and
// never changes the twin.
import type { ClusterTwin, TwinChange, TwinKind, TwinObject } from '../cluster-twin.ts';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: TwinObject;
}

export interface Subscription {
  close(): void;
}

interface Subscriber {
  kind: TwinKind;
  matches: (o: TwinObject) => boolean;
  send: (e: WatchEvent) => void;
}

export class TooOldResourceVersionError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

export class WatchHub {
  private readonly log: TwinChange[] = [];
  /** The newest version whose successors the log fully holds. */
  private floorRv: number;
  private readonly subscribers = new Set<Subscriber>();
  private readonly stopWatching: () => void;

  constructor(
    twin: ClusterTwin,
    /** Changes kept; a client that lists and then watches needs only the few in between. */
    private readonly capacity = 5_000,
  ) {
    // Changes already made are not in the log: a watch must start from now or later.
    twin.step();
    this.floorRv = Number(twin.resourceVersion);
    this.stopWatching = twin.watch((changes) => this.publish(changes));
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestResourceVersion(): number {
    return this.floorRv;
  }

  private publish(changes: TwinChange[]): void {
    for (const c of changes) {
      this.log.push(c);
      for (const s of this.subscribers) {
        if (s.kind === c.kind && s.matches(c.object)) s.send({ type: c.type, object: c.object });
      }
    }
    if (this.log.length > this.capacity) {
      const dropped = this.log.splice(0, this.log.length - this.capacity);
      this.floorRv = Math.max(this.floorRv, Number(dropped[dropped.length - 1]!.object.metadata.resourceVersion));
    }
  }

  /**
   * Sends every logged change of `kind` after `fromRv` that `matches`, then each new one as it
   * happens. Throws TooOldResourceVersionError when the log no longer reaches back to `fromRv`.
   */
  subscribe(kind: TwinKind, fromRv: number, matches: (o: TwinObject) => boolean, send: (e: WatchEvent) => void): Subscription {
    if (fromRv < this.floorRv) throw new TooOldResourceVersionError(fromRv, this.floorRv);
    for (const c of this.log) {
      if (c.kind === kind && Number(c.object.metadata.resourceVersion) > fromRv && matches(c.object)) send({ type: c.type, object: c.object });
    }
    const s: Subscriber = { kind, matches, send };
    this.subscribers.add(s);
    return { close: () => this.subscribers.delete(s) };
  }

  close(): void {
    this.stopWatching();
    this.subscribers.clear();
  }
}
