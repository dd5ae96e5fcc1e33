-- requires: none
-- mode: read
-- returns: row
-- Where a conversion of LiteLLM_SpendLogs to the partitioned layout stands: the table's kind (r plain,
-- p partitioned), whether the staging, old and state tables exist, the table's owner and who we are.
SELECT (SELECT c.relkind::text FROM pg_class c
        WHERE c.relnamespace = to_regnamespace(quote_ident(current_schema()))
          AND c.relname = 'LiteLLM_SpendLogs') AS kind,
       to_regclass(quote_ident(current_schema()) || '."LiteLLM_SpendLogs_new"') IS NOT NULL AS new_exists,
       to_regclass(quote_ident(current_schema()) || '."LiteLLM_SpendLogs_old"') IS NOT NULL AS old_exists,
       to_regclass(quote_ident(current_schema()) || '.dbctl_logs_partition') IS NOT NULL AS state_exists,
       (SELECT pg_get_userbyid(c.relowner) FROM pg_class c
        WHERE c.relnamespace = to_regnamespace(quote_ident(current_schema()))
          AND c.relname = 'LiteLLM_SpendLogs') AS owner,
       current_user::text AS me
