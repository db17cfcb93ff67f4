-- Up Migration
-- Human approvals, enforced by the database itself: one vote per person per proposal, and one
-- outcome per proposal (approved, rejected or expired), whichever process or restart writes it. The
-- audit store fills these tables from the approval records it appends, in the same transaction, so
-- they are never ahead of or behind the log; a second decision on a proposal fails its whole append.
-- Votes and outcomes are append-only, like the records they come from. pending_approvals is
-- operational state (which requests still wait, and until when), rebuilt below from the records.
-- Runs with search_path set to the store's schema; refuse_mutation() comes from the audit-log migration.

CREATE TABLE approval_votes (
  proposal_id text NOT NULL,
  voter text NOT NULL CHECK (voter <> ''),
  approved boolean NOT NULL,
  at text NOT NULL,
  PRIMARY KEY (proposal_id, voter)
);
CREATE TRIGGER approval_votes_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON approval_votes
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
ALTER TABLE approval_votes ENABLE ALWAYS TRIGGER approval_votes_append_only;

CREATE TABLE approval_outcomes (
  proposal_id text PRIMARY KEY,
  outcome text NOT NULL CHECK (outcome IN ('approved', 'rejected', 'expired')),
  at text NOT NULL
);
CREATE TRIGGER approval_outcomes_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON approval_outcomes
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
ALTER TABLE approval_outcomes ENABLE ALWAYS TRIGGER approval_outcomes_append_only;

CREATE TABLE pending_approvals (
  proposal_id text PRIMARY KEY,
  tenant text,
  expires_at text NOT NULL
);
CREATE INDEX pending_approvals_expiry ON pending_approvals (expires_at);

-- Logs written before this migration: every approval record was one person's decisive word.
INSERT INTO approval_votes (proposal_id, voter, approved, at)
SELECT DISTINCT ON (proposal_id, actor) proposal_id, actor, (payload->'approval'->>'approved')::boolean, at
  FROM audit_records
 WHERE kind = 'approval' AND proposal_id IS NOT NULL AND payload->'approval'->>'override' IS NULL
 ORDER BY proposal_id, actor, seq;

INSERT INTO approval_outcomes (proposal_id, outcome, at)
SELECT DISTINCT ON (proposal_id) proposal_id,
       CASE WHEN (payload->'approval'->>'approved')::boolean THEN 'approved' ELSE 'rejected' END, at
  FROM audit_records
 WHERE kind = 'approval' AND proposal_id IS NOT NULL AND payload->'approval'->>'override' IS NULL
 ORDER BY proposal_id, seq;
