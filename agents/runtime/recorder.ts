// The one way agents and the gateway write: an audit record, and — when there is an event — the
// same record and the event's outbox entry in one transaction, then a nudge to the relay so the event
// leaves at once. Fail closed: when the audit write fails, nothing is published and the caller sees
// the error.
import type { AuditInput, AuditRecord, AuditStore, OutboxMessage } from '../../src/audit/audit-store.ts';

export interface Recorder {
  record(input: AuditInput): Promise<AuditRecord>;
  recordAndPublish(input: AuditInput, message: OutboxMessage): Promise<AuditRecord>;
  /** Several records (and their events) in one transaction: all or none. */
  recordAllAndPublish(entries: readonly { input: AuditInput; message?: OutboxMessage }[]): Promise<AuditRecord[]>;
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

  async recordAllAndPublish(entries: readonly { input: AuditInput; message?: OutboxMessage }[]): Promise<AuditRecord[]> {
    const recs = await this.audit.appendAll(entries);
    if (entries.some((e) => e.message)) this.onOutboxWrite();
    return recs;
  }
}
