-- Up Migration
-- The gateway asks two things on every decision that used to mean scanning a window of the log:
-- which of the tenant's grants have not executed yet (every grant of the last two minutes, each
-- probed for a result), and the target's last successful actions (every result of the tenant in
-- the last hour, filtered). At hundreds of proposals a second both grow with the window.
--
-- open_grants holds the grants without an execution result. The audit store maintains it in the
-- same transaction as the records themselves (a grant opens a row, the result that names it closes
-- it), so it is never ahead of or behind the log. It is operational state, not evidence: the audit
-- records stay the source of truth, and the backfill below rebuilds it from them.
CREATE TABLE open_grants (
  grant_id text PRIMARY KEY,
  tenant text NOT NULL,
  target text,
  proposal_id text,
  issued_at text NOT NULL
);
CREATE INDEX open_grants_tenant ON open_grants (tenant, issued_at);

INSERT INTO open_grants (grant_id, tenant, target, proposal_id, issued_at)
SELECT g.payload->'grant'->>'id', g.tenant, g.payload->>'target', g.proposal_id, g.at
  FROM audit_records g
 WHERE g.kind = 'grant' AND g.tenant IS NOT NULL AND g.payload->'grant'->>'id' IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM audit_records r
                    WHERE r.kind = 'execution_result' AND r.payload->>'grant_id' = g.payload->'grant'->>'id')
ON CONFLICT (grant_id) DO NOTHING;

-- Results were looked up by grant id only to find the grants without one; open_grants answers
-- that now, so the index would only slow every append.
DROP INDEX audit_records_result_grant;

-- A target's results, newest first, without reading the tenant's other targets.
CREATE INDEX audit_records_result_target ON audit_records (
  tenant,
  (payload->'result'->'args'->>'namespace'),
  (payload->'result'->'args'->>'deployment'),
  at
) WHERE kind = 'execution_result';
