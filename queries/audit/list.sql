-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- `audit list`: the audit rows matching the filters, newest first, at most %(limit)s.
SELECT
    -- include: audit/fragments/columns
FROM "LiteLLM_AuditLog" AS a
WHERE true
-- include: audit/fragments/filters
ORDER BY a.updated_at DESC, a.id DESC
LIMIT %(limit)s
