-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- The swap, inside the transaction that holds both tables locked: drop the mirror triggers; move the
-- plain table's primary key and indexes aside and the table to LiteLLM_SpendLogs_old; the partitioned
-- table becomes LiteLLM_SpendLogs with the key and index names the migrations gave the plain one;
-- views over the plain table are re-created from their own definitions, so they read the new one.
DO $$
DECLARE
    r record;
    views jsonb := '[]'::jsonb;
BEGIN
    FOR r IN
        SELECT DISTINCT n.nspname::text AS schema_name, v.relname::text AS view_name,
               pg_get_viewdef(v.oid) AS definition
        FROM pg_depend d
        JOIN pg_rewrite rw ON rw.oid = d.objid
        JOIN pg_class v ON v.oid = rw.ev_class
        JOIN pg_namespace n ON n.oid = v.relnamespace
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = '"LiteLLM_SpendLogs"'::regclass
          AND v.relkind = 'v' AND v.oid <> d.refobjid
    LOOP
        views := views || jsonb_build_array(jsonb_build_object(
            'schema', r.schema_name, 'name', r.view_name, 'definition', r.definition));
    END LOOP;
    DROP TRIGGER IF EXISTS dbctl_logs_partition_insert ON "LiteLLM_SpendLogs";
    DROP TRIGGER IF EXISTS dbctl_logs_partition_update ON "LiteLLM_SpendLogs";
    DROP TRIGGER IF EXISTS dbctl_logs_partition_delete ON "LiteLLM_SpendLogs";
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '"LiteLLM_SpendLogs"'::regclass
               AND conname = 'LiteLLM_SpendLogs_pkey') THEN
        ALTER TABLE "LiteLLM_SpendLogs" RENAME CONSTRAINT "LiteLLM_SpendLogs_pkey" TO "LiteLLM_SpendLogs_old_pkey";
    END IF;
    FOR r IN SELECT final_name, new_name, aside_name FROM dbctl_logs_partition_index ORDER BY final_name LOOP
        EXECUTE format('ALTER INDEX IF EXISTS %%I RENAME TO %%I', r.final_name, r.aside_name);
    END LOOP;
    ALTER TABLE "LiteLLM_SpendLogs" RENAME TO "LiteLLM_SpendLogs_old";
    ALTER TABLE "LiteLLM_SpendLogs_new" RENAME TO "LiteLLM_SpendLogs";
    ALTER TABLE "LiteLLM_SpendLogs" RENAME CONSTRAINT "LiteLLM_SpendLogs_new_pkey" TO "LiteLLM_SpendLogs_pkey";
    FOR r IN SELECT final_name, new_name FROM dbctl_logs_partition_index ORDER BY final_name LOOP
        EXECUTE format('ALTER INDEX %%I RENAME TO %%I', r.new_name, r.final_name);
    END LOOP;
    FOR r IN SELECT e.v FROM jsonb_array_elements(views) AS e (v) LOOP
        EXECUTE format('CREATE OR REPLACE VIEW %%I.%%I AS %%s', r.v ->> 'schema', r.v ->> 'name',
                       r.v ->> 'definition');
    END LOOP;
END
$$
