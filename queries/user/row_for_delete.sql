-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- The whole user row, locked until the delete commits: the audit row's before_value, as /user/delete
-- writes it.
SELECT * FROM "LiteLLM_UserTable" WHERE user_id = %(user_id)s FOR UPDATE
