-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /user/delete: the user rows (after strip_users and delete_invitations; their spend logs stay).
DELETE FROM "LiteLLM_UserTable" WHERE user_id = ANY(%(ids)s::text[])
