// Test fake: the part of the AuditStore contract that agents and the executor use (append, list,
// claimExecution), in memory, in chain order. Everything else throws, so a test that strays beyond
// what it set up fails loudly instead of passing on a silent default.
import { randomUUID } from 'node:crypto';
import type { AuditFilter, AuditInput, AuditRecord, AuditStore, OutboxMessage } from '../../src/audit/audit-store.ts';
import { checkRecord } from '../../src/audit/records.ts';

export interface MemoryAudit extends AuditStore {
  records: AuditRecord[];
  published: OutboxMessage[];
}

export function memoryAudit(): MemoryAudit {
  const records: AuditRecord[] = [];
  const published: OutboxMessage[] = [];
  const claims = new Set<string>();
  const append = (input: AuditInput): AuditRecord => {
    // As strict as the real store: a record its kind does not describe is refused.
    const rec = { ...structuredClone(checkRecord(input)), seq: records.length + 1, id: randomUUID(), prev_hash: '', hash: '' } as AuditRecord;
    records.push(rec);
    return rec;
  };
  const matches = (r: AuditRecord, f: AuditFilter): boolean =>
    (f.proposal_id === undefined || r.proposal_id === f.proposal_id) &&
    (f.incident_id === undefined || r.incident_id === f.incident_id) &&
    (f.kind === undefined || r.kind === f.kind) &&
    (f.tenant === undefined || r.tenant === f.tenant) &&
    (f.since === undefined || r.at >= f.since);
  const unsupported = (name: string) => () => {
    throw new Error(`memoryAudit: ${name} is not part of this fake`);
  };
  return {
    records,
    published,
    migrate: async () => undefined,
    append: async (input) => append(input),
    appendWithOutbox: async (input, message) => {
      published.push(message);
      return append(input);
    },
    appendAll: async (entries) =>
      entries.map((e) => {
        if (e.message) published.push(e.message);
        return append(e.input);
      }),
    claimExecution: async ({ grant_id }) => {
      if (claims.has(grant_id)) return false;
      claims.add(grant_id);
      return true;
    },
    list: async (filter = {}) => {
      if (filter.payload_contains) throw new Error('memoryAudit: payload_contains is not part of this fake');
      const out = records.filter((r) => matches(r, filter));
      if (filter.newest_first) out.reverse();
      return filter.limit === undefined ? out : out.slice(0, filter.limit);
    },
    pendingOutbox: unsupported('pendingOutbox'),
    markPublished: unsupported('markPublished'),
    markPublishedMany: unsupported('markPublishedMany'),
    decisionContext: unsupported('decisionContext'),
    appendChecked: async (plan) => {
      const { entries, result } = await plan({ list: async (f) => records.filter((r) => matches(r, f)) });
      const written = entries.map((e) => {
        if (e.message) published.push(e.message);
        return append(e.input);
      });
      return { records: written, result };
    },
    expiredApprovals: unsupported('expiredApprovals'),
    pendingVerifications: unsupported('pendingVerifications'),
    verify: unsupported('verify'),
    head: unsupported('head'),
    hashAt: unsupported('hashAt'),
    close: async () => undefined,
  };
}
