-- Up Migration
-- The audit log, the outbox and execution claims. PostgreSQL is the source of truth, so the rules
-- that matter live in the database itself, not only in the code that writes to it: audit records
-- and execution claims can be inserted and read, never changed or removed. There is deliberately
-- no down section: rolling this migration back would mean dropping the evidence.
-- Runs with search_path set to the store's schema (node-pg-migrate `schema` option), so names are
-- unqualified here.

CREATE FUNCTION refuse_mutation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING HINT = 'correct a record by appending a new one; existing records are evidence';
END;
$$;

CREATE TABLE audit_records (
  -- Assigned by the store under the chain lock, not by a sequence: a sequence burns values when
  -- a transaction rolls back, and a gap must only ever mean a deleted record.
  seq bigint PRIMARY KEY CHECK (seq > 0),
  id uuid NOT NULL UNIQUE,
  kind text NOT NULL,
  actor text NOT NULL,
  -- The ISO string exactly as given, so the hash recomputed from the row matches.
  at text NOT NULL,
  incident_id text,
  proposal_id text,
  tenant text,
  payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  -- UNIQUE: two records can never claim the same predecessor, so the chain cannot fork even if
  -- a writer skipped the chain lock.
  prev_hash text NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_records_proposal ON audit_records (proposal_id, seq) WHERE proposal_id IS NOT NULL;
CREATE INDEX audit_records_incident ON audit_records (incident_id, seq) WHERE incident_id IS NOT NULL;

-- Statement-level, so even an UPDATE or DELETE that matches no row is refused; ENABLE ALWAYS, so
-- `SET session_replication_role = replica` does not switch it off (only ALTER TABLE by the owner can).
CREATE TRIGGER audit_records_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
ALTER TABLE audit_records ENABLE ALWAYS TRIGGER audit_records_append_only;

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  stream text NOT NULL CHECK (stream <> ''),
  event jsonb NOT NULL CHECK (jsonb_typeof(event) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  bus_id text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE execution_claims (
  grant_id text PRIMARY KEY,
  proposal_id text NOT NULL,
  consumer text NOT NULL,
  at text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER execution_claims_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON execution_claims
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
ALTER TABLE execution_claims ENABLE ALWAYS TRIGGER execution_claims_append_only;
