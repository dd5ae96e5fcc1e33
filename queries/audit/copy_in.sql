-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- LiteLLM_AuditLog rows in LiteLLM's shape, by COPY: id uuid, action (created, updated, deleted,
-- blocked, unblocked), table_name, object_id, before_value / updated_values JSON, changed_by the actor.
COPY "LiteLLM_AuditLog" (id, updated_at, changed_by, changed_by_api_key, action, table_name, object_id,
                         before_value, updated_values)
FROM STDIN
