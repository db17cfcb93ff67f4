// The one way agents and the gateway write: an audit record, and — when there is an event — the
// same record and the event's outbox entry in one transaction, then a nudge to the relay so the event
// leaves at once. Fail closed: when the audit write fails, nothing is published and the caller sees
// the error. Records that carry an event get their envelope from it (records.ts: entryOfEvent).
import type { GovernorEvent } from '../contracts/events.ts';
import type { AuditReader, AuditStore, OutboxMessage } from './audit-store.ts';
import { entryOfEvent, type AuditEntry, type AuditInput, type AuditRecord, type AuditedEvent, type AuditedType, type ExtrasOf } from './records.ts';

export interface Recorder {
  record(input: AuditInput): Promise<AuditRecord>;
  recordAndPublish(input: AuditInput, message: OutboxMessage): Promise<AuditRecord>;
  /** Several records (and their events) in one transaction: all or none. */
  recordAllAndPublish(entries: readonly AuditEntry[]): Promise<AuditRecord[]>;
  /** Reads the log under the chain lock and appends what `plan` decides (AuditStore.appendChecked). */
  recordChecked<T>(plan: (read: AuditReader) => Promise<{ entries: readonly AuditEntry[]; result: T }>): Promise<T>;
}

/** Records the event (its envelope derived from it, the rest of its kind's payload given) and publishes it. */
export function publishEvent<T extends AuditedType>(
  recorder: Recorder,
  event: Extract<AuditedEvent, { type: T }>,
  extras: ExtrasOf<T>,
): Promise<AuditRecord> {
  const entry = entryOfEvent<T>(event, extras);
  return recorder.recordAndPublish(entry.input, entry.message);
}

export class AuditRecorder implements Recorder {
  constructor(
    private readonly audit: AuditStore,
    private readonly onOutboxWrite: () => void,
  ) {}

  record(input: AuditInput): Promise<AuditRecord> {
    return this.audit.append(input);
  }

  async recordAndPublish(input: AuditInput, message: OutboxMessage): Promise<AuditRecord> {
    const rec = await this.audit.appendWithOutbox(input, message);
    this.onOutboxWrite();
    return rec;
  }

  async recordAllAndPublish(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const recs = await this.audit.appendAll(entries);
    if (entries.some((e) => e.message)) this.onOutboxWrite();
    return recs;
  }

  async recordChecked<T>(plan: (read: AuditReader) => Promise<{ entries: readonly AuditEntry[]; result: T }>): Promise<T> {
    let published = false;
    const { result } = await this.audit.appendChecked(async (read) => {
      const planned = await plan(read);
      published = planned.entries.some((e) => e.message);
      return planned;
    });
    if (published) this.onOutboxWrite();
    return result;
  }
}
