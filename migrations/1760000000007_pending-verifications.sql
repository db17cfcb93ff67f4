-- Up Migration
-- Verifications in flight, kept with the log so that they survive the process that started them:
-- an execution result that carries a verification plan opens a row (deadline, level, metric before),
-- the verification record of the same proposal closes it. The audit store maintains it in the same
-- transaction as the records, like open_grants; it is operational state, rebuilt below from them.
-- Runs with search_path set to the store's schema.
CREATE TABLE pending_verifications (
  proposal_id text PRIMARY KEY,
  tenant text,
  started_at text NOT NULL,
  deadline text NOT NULL,
  level smallint NOT NULL CHECK (level IN (2, 3)),
  before double precision NOT NULL
);
CREATE INDEX pending_verifications_deadline ON pending_verifications (deadline);

INSERT INTO pending_verifications (proposal_id, tenant, started_at, deadline, level, before)
SELECT DISTINCT ON (r.proposal_id) r.proposal_id, r.tenant, r.payload->'verification'->>'started_at', r.payload->'verification'->>'deadline',
       (r.payload->'verification'->>'level')::smallint, (r.payload->'verification'->>'before')::double precision
  FROM audit_records r
 WHERE r.kind = 'execution_result' AND r.proposal_id IS NOT NULL AND r.payload ? 'verification'
   AND NOT EXISTS (SELECT 1 FROM audit_records v WHERE v.kind = 'verification' AND v.proposal_id = r.proposal_id)
 ORDER BY r.proposal_id, r.seq
ON CONFLICT (proposal_id) DO NOTHING;
