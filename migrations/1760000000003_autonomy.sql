-- Up Migration
-- Autonomy changes: every change of an agent's autonomy (the deployment phase, an operator's
-- `/agents-level`, a pause, a resume, a demotion by agent health, a promotion) as one appended row.
-- The current levels are a fold over this table, so every process that reads it arrives at the same
-- answer; the bus only carries the news faster. Append-only like the audit log: a wrong change is
-- corrected by appending another, never by editing one. No down section, on purpose.
-- Runs with search_path set to the store's schema (node-pg-migrate `schema` option), so names are
-- unqualified here; refuse_mutation() comes from the audit-log migration.

CREATE TABLE autonomy_changes (
  -- The epoch: a view that has applied change N and hears of N+2 knows it missed one and reloads.
  id bigserial PRIMARY KEY,
  -- The run's clock (simulated in the demo), ISO-8601 UTC as given.
  at text NOT NULL,
  -- NULL: the change concerns every agent (phase, pause, resume).
  agent text CHECK (agent IS NULL OR agent IN ('watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist')),
  kind text NOT NULL CHECK (kind IN ('phase', 'level', 'pause', 'resume', 'demotion', 'promotion')),
  level smallint CHECK (level IS NULL OR level BETWEEN 1 AND 3),
  phase text CHECK (phase IS NULL OR phase IN ('observe', 'advise', 'assist', 'govern')),
  actor text NOT NULL CHECK (actor <> ''),
  reason text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CHECK (kind <> 'phase' OR (phase IS NOT NULL AND agent IS NULL)),
  CHECK (kind NOT IN ('level', 'promotion') OR (agent IS NOT NULL AND level IS NOT NULL)),
  CHECK (kind <> 'demotion' OR agent IS NOT NULL),
  CHECK (kind NOT IN ('pause', 'resume') OR agent IS NULL)
);

CREATE TRIGGER autonomy_changes_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON autonomy_changes
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
ALTER TABLE autonomy_changes ENABLE ALWAYS TRIGGER autonomy_changes_append_only;
