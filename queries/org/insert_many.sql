-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- Create organizations as /organization/new writes them: a budget_id (its budget row is inserted
-- first), models default [], metadata {}, created_by = updated_by = the actor, spend 0.
INSERT INTO "LiteLLM_OrganizationTable" (
    organization_id, organization_alias, budget_id, models, metadata, spend, created_by, updated_by,
    created_at, updated_at)
SELECT r.organization_id, r.organization_alias, r.budget_id, coalesce(r.models, ARRAY[]::text[]),
       coalesce(r.metadata, '{}'::jsonb), 0.0, %(actor)s, %(actor)s, %(now)s::timestamp, %(now)s::timestamp
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    organization_id text, organization_alias text, budget_id text, models text[], metadata jsonb)
ON CONFLICT DO NOTHING
