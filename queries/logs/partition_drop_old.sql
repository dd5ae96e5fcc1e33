-- requires: none
-- mode: write
-- returns: none
-- Drop the plain table a conversion swapped out (nothing reads it: views were re-pointed at the swap).
DO $$
BEGIN
    DROP TABLE IF EXISTS "LiteLLM_SpendLogs_old";
END
$$
