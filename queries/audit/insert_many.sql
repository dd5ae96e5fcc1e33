-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- LiteLLM_AuditLog rows in LiteLLM's shape: id uuid, action (created, updated, deleted, blocked,
-- unblocked), table_name, object_id, before_value / updated_values JSON, changed_by = the actor.
INSERT INTO "LiteLLM_AuditLog" (id, updated_at, changed_by, changed_by_api_key, action, table_name, object_id,
                                before_value, updated_values)
SELECT r.id, %(now)s::timestamp, %(actor)s, '', r.action, r.table_name, r.object_id, r.before_value, r.updated_values
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    id text, action text, table_name text, object_id text, before_value jsonb, updated_values jsonb)
