// The Arbitrator's watch over each tenant's error-budget burn (src/governance/live-burn.ts, the fast
// window pair): after every refresh of the burn rates it raises the priority of a tenant burning
// above 1.5x the sustainable rate and lowers it again below 1.2x (src/governance/arbitration.ts
// decides), as `priority_raised` / `priority_lowered` records — attached to the tenant's open
// incident when it has one, and said in that incident's thread. The gateway reads those records
// before every grant (priority, preemption). Idempotent across replicas: the change is decided and
// written under the audit chain lock, so two watches never raise the same priority twice.
// It never proposes, grants or executes anything.
import type { AuditReader, AuditRecord } from '../../src/audit/audit-store.ts';
import type { AuditEntry } from '../../src/audit/records.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Notifier } from '../../src/governance/channels.ts';
import {
  PRIORITY_LOWER_BELOW,
  PRIORITY_RAISE_AT,
  activePriorities,
  burnWindows,
  priorityChanges,
  type PriorityChange,
} from '../../src/governance/arbitration.ts';
import type { LiveBurn } from '../../src/governance/live-burn.ts';
import type { Tenants } from '../../src/governance/tenants.ts';
import { ARBITRATOR } from './arbitrator.ts';

/** How far back an incident counts as the tenant's open one. */
const OPEN_INCIDENT_MS = 2 * 60 * 60_000;

export interface PriorityWatchDeps {
  /** The tenants' live burn rates (LiveBurnRates). */
  burns: { of(tenant: string): LiveBurn | undefined };
  tenants: Tenants;
  recorder: Recorder;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
}

export class PriorityWatch {
  constructor(private readonly deps: PriorityWatchDeps) {}

  /** Raises and lowers priorities by the burn rates now; resolves to what changed. */
  async tick(): Promise<PriorityChange[]> {
    const { clock } = this.deps;
    const at = new Date(clock.now()).toISOString();
    const written = await this.deps.recorder.recordChecked(async (read) => {
      const [raised, lowered] = await Promise.all([read.list({ kind: 'priority_raised' }), read.list({ kind: 'priority_lowered' })]);
      const active = activePriorities([...raised, ...lowered].sort((a, b) => a.seq - b.seq));
      const changes = priorityChanges(active, Object.keys(this.deps.tenants), (t) => this.deps.burns.of(t));
      const entries: AuditEntry[] = [];
      const out: { change: PriorityChange; incident: string | undefined }[] = [];
      for (const c of changes) {
        const incident = await openIncident(read, c.tenant, clock.now());
        const envelope = { actor: ARBITRATOR, at, tenant: c.tenant, ...(incident ? { incident_id: incident } : {}) };
        entries.push({
          input: c.kind === 'raise'
            ? { kind: 'priority_raised', ...envelope, payload: { burn_rate: c.burn.burn_rate, windows: burnWindows(c.burn), threshold: PRIORITY_RAISE_AT, lower_below: PRIORITY_LOWER_BELOW, reason: c.reason } }
            : { kind: 'priority_lowered', ...envelope, payload: { burn_rate: c.burn?.burn_rate ?? null, windows: c.burn ? burnWindows(c.burn) : null, lower_below: PRIORITY_LOWER_BELOW, raised_id: c.raised.raised_id, reason: c.reason } },
        });
        out.push({ change: c, incident });
      }
      return { entries, result: out };
    });
    for (const { change, incident } of written) {
      this.deps.logger.info({ agent: ARBITRATOR, tenant: change.tenant, ...(incident ? { incident_id: incident } : {}) }, `priority ${change.kind === 'raise' ? 'raised' : 'lowered'}: ${change.reason}`);
      await this.deps.notifier.notify(`${change.kind === 'raise' ? 'Priority raised' : 'Priority lowered'} for ${change.tenant}: ${change.reason}.`, incident ? { incident_id: incident } : undefined);
    }
    return written.map((w) => w.change);
  }
}

/** The tenant's latest incident that no informational observation has closed, if any. */
async function openIncident(read: AuditReader, tenant: string, nowMs: number): Promise<string | undefined> {
  const obs = await read.list({ kind: 'observation', tenant, since: new Date(nowMs - OPEN_INCIDENT_MS).toISOString() });
  const closed = new Set(obs.flatMap((r: AuditRecord) => (r.kind === 'observation' && r.payload.observation.severity === 'info' && r.incident_id ? [r.incident_id] : [])));
  for (let i = obs.length - 1; i >= 0; i--) {
    const r = obs[i]!;
    if (r.incident_id && !closed.has(r.incident_id)) return r.incident_id;
  }
  return undefined;
}
