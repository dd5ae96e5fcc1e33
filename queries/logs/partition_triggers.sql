-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- The conversion's three triggers on the plain LiteLLM_SpendLogs (each once). CREATE TRIGGER waits for
-- the proxy's open inserts: run under a short lock_timeout and retried.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '"LiteLLM_SpendLogs"'::regclass
                   AND tgname = 'dbctl_logs_partition_insert') THEN
        CREATE TRIGGER dbctl_logs_partition_insert AFTER INSERT ON "LiteLLM_SpendLogs"
            REFERENCING NEW TABLE AS dbctl_new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION dbctl_logs_partition_mirror();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '"LiteLLM_SpendLogs"'::regclass
                   AND tgname = 'dbctl_logs_partition_update') THEN
        CREATE TRIGGER dbctl_logs_partition_update AFTER UPDATE ON "LiteLLM_SpendLogs"
            REFERENCING OLD TABLE AS dbctl_old_rows NEW TABLE AS dbctl_new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION dbctl_logs_partition_mirror();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '"LiteLLM_SpendLogs"'::regclass
                   AND tgname = 'dbctl_logs_partition_delete') THEN
        CREATE TRIGGER dbctl_logs_partition_delete AFTER DELETE ON "LiteLLM_SpendLogs"
            REFERENCING OLD TABLE AS dbctl_old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION dbctl_logs_partition_mirror();
    END IF;
END
$$
