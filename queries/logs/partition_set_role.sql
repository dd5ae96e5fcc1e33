-- requires: none
-- mode: write
-- returns: none
-- identifiers: role
-- Act as LiteLLM_SpendLogs's owner for the rest of the transaction: the tables, partitions and function
-- a conversion makes are the owner's, so the proxy can write them and its partition manager drop them.
SET LOCAL ROLE {role}
