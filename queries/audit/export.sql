-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- `audit export`: every audit row matching the filters, oldest first, read through a server-side
-- cursor (sqlfiles.stream) so memory stays flat at any size.
SELECT
    -- include: audit/fragments/columns
FROM "LiteLLM_AuditLog" AS a
WHERE true
-- include: audit/fragments/filters
ORDER BY a.updated_at, a.id
