// A view of a bus under a stream-name prefix, so that several runs (two demos, parallel test files)
// can share one Redis without hearing each other. Pure delegation; semantics are the inner bus's.
import type { GovernorEvent } from '../contracts/events.ts';
import type { BusMessage, DeadLetter, EventBus, MessageHandler, SubscribeOptions, Subscription } from './event-bus.ts';

export class PrefixedEventBus implements EventBus {
  constructor(
    private readonly inner: EventBus,
    private readonly prefix: string,
  ) {}

  private name(stream: string): string {
    return `${this.prefix}${stream}`;
  }

  private unprefix(msg: BusMessage): BusMessage {
    return { ...msg, stream: msg.stream.startsWith(this.prefix) ? msg.stream.slice(this.prefix.length) : msg.stream };
  }

  publish(stream: string, event: GovernorEvent): Promise<string> {
    return this.inner.publish(this.name(stream), event);
  }

  subscribe(stream: string, opts: SubscribeOptions, handler: MessageHandler): Subscription {
    return this.inner.subscribe(this.name(stream), opts, (msg) => handler(this.unprefix(msg)));
  }

  backlog(): Promise<number> {
    return this.inner.backlog();
  }

  async deadLetters(stream: string): Promise<DeadLetter[]> {
    return (await this.inner.deadLetters(this.name(stream))).map((d) => ({ ...d, stream }));
  }

  async read(stream: string, opts?: { count?: number }): Promise<BusMessage[]> {
    return (await this.inner.read(this.name(stream), opts)).map((m) => this.unprefix(m));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
