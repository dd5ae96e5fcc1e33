-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- `audit show`: the audit row with this id, or those whose id starts with %(prefix)s (8+ characters,
-- NULL for none; more than one is ambiguous, so two are enough to tell).
SELECT
    -- include: audit/fragments/columns
FROM "LiteLLM_AuditLog" AS a
WHERE a.id = %(id)s OR (%(prefix)s::text IS NOT NULL AND starts_with(a.id, %(prefix)s::text))
ORDER BY a.id = %(id)s DESC, a.id
LIMIT 2
