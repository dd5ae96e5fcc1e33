-- requires: none
-- mode: write
-- returns: none
-- The mirror behind the conversion's triggers on the plain LiteLLM_SpendLogs (statement-level, over
-- transition tables, so a proxy's 100-row insert costs one more statement): inserted rows are inserted
-- into the staging table (a row the copy already moved is left alone); updated and deleted rows are
-- removed from it (updated ones inserted again) and their keys recorded, so a copy batch that read the
-- row before the change cannot leave its stale copy behind (the reconcile steps copy those keys again).
-- SECURITY DEFINER: it runs with the table owner's rights whatever role the proxy writes as.
CREATE OR REPLACE FUNCTION dbctl_logs_partition_mirror() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO "LiteLLM_SpendLogs_new" SELECT * FROM dbctl_new_rows ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO dbctl_logs_partition_dirty (request_id, "startTime")
        SELECT request_id, "startTime" FROM dbctl_old_rows
        UNION SELECT request_id, "startTime" FROM dbctl_new_rows;
        DELETE FROM "LiteLLM_SpendLogs_new" n USING dbctl_old_rows o
        WHERE n.request_id = o.request_id AND n."startTime" = o."startTime";
        INSERT INTO "LiteLLM_SpendLogs_new" SELECT * FROM dbctl_new_rows ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO dbctl_logs_partition_dirty (request_id, "startTime")
        SELECT request_id, "startTime" FROM dbctl_old_rows;
        DELETE FROM "LiteLLM_SpendLogs_new" n USING dbctl_old_rows o
        WHERE n.request_id = o.request_id AND n."startTime" = o."startTime";
    END IF;
    RETURN NULL;
END
$$
