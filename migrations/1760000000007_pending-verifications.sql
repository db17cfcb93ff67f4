-- Up Migration
-- Verifications in flight, kept with the log so that they survive the process that started them:
-- an execution result that carries a verification plan (its deadline, level, the metrics before)
-- opens a row; the verification record of the same proposal and of the same thing (the action, or
-- the compensating action that undid it) closes it. The audit store maintains it in the same
-- transaction as the records, like open_grants; it is operational state, rebuilt below from them.
-- Runs with search_path set to the store's schema.
CREATE TABLE pending_verifications (
  proposal_id text NOT NULL,
  -- What is verified: 'action', or 'compensation' (a compensating action is verified too).
  of text NOT NULL DEFAULT 'action' CHECK (of IN ('action', 'compensation')),
  tenant text,
  deadline text NOT NULL,
  -- The plan as the execution result holds it (records.ts: VerificationPlan).
  plan jsonb NOT NULL CHECK (jsonb_typeof(plan) = 'object'),
  PRIMARY KEY (proposal_id, of)
);
CREATE INDEX pending_verifications_deadline ON pending_verifications (deadline);

INSERT INTO pending_verifications (proposal_id, of, tenant, deadline, plan)
SELECT DISTINCT ON (r.proposal_id, coalesce(r.payload->'verification'->>'of', 'action'))
       r.proposal_id, coalesce(r.payload->'verification'->>'of', 'action'), r.tenant, r.payload->'verification'->>'deadline', r.payload->'verification'
  FROM audit_records r
 WHERE r.kind = 'execution_result' AND r.proposal_id IS NOT NULL AND r.payload ? 'verification'
   AND NOT EXISTS (
     SELECT 1 FROM audit_records v
      WHERE v.kind = 'verification' AND v.proposal_id = r.proposal_id
        AND coalesce(v.payload->'verification'->>'of', 'action') = coalesce(r.payload->'verification'->>'of', 'action'))
 ORDER BY r.proposal_id, coalesce(r.payload->'verification'->>'of', 'action'), r.seq
ON CONFLICT (proposal_id, of) DO NOTHING;
