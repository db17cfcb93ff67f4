// What an agent that answers observations with proposals is given by the composition root: its MCP
// session, the way it records (audit record and bus event together), the audit log to read what it
// already did (redeliveries), the run's clock, the logger and the tenants' configuration. Never a
// concrete bus, database or cluster client.
import type { AuditStore } from '../../src/audit/audit-store.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Tenants } from '../../src/governance/tenants.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { ToolClient } from './tool-client.ts';

export interface ObservationAgentDeps {
  /** The agent's own MCP session, bound by its token to the agent and its tenants' namespaces. */
  tools: ToolClient;
  recorder: Recorder;
  audit: AuditStore;
  clock: Clock;
  logger: Logger;
  tenants: Tenants;
}
