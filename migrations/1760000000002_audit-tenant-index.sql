-- Up Migration
-- The gateway asks the audit log what happened recently to a tenant (the last scaling of a
-- target, actions still in flight) on every decision: keep those index scans however long the log
-- grows.
CREATE INDEX audit_records_tenant_kind_at ON audit_records (tenant, kind, at) WHERE tenant IS NOT NULL;
CREATE INDEX audit_records_result_grant ON audit_records ((payload->>'grant_id')) WHERE kind = 'execution_result';
