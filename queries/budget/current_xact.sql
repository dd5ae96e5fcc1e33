-- requires: none
-- mode: read
-- returns: value
-- The running transaction's id, read just before COMMIT: if the connection drops while committing,
-- a new session asks the server how that transaction ended (budget/xact_status).
SELECT pg_current_xact_id()::text
