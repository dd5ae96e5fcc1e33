-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- The staging table's indexes and grants: every index of the plain LiteLLM_SpendLogs but its primary
-- key (as pg_get_indexdef renders it), and LiteLLM's two request-log indexes where the plain table has
-- neither them nor an equivalent, each under a temporary name recorded in dbctl_logs_partition_index
-- (the real names are the plain table's until the swap); on a partitioned parent each reaches every
-- partition, present and future. Then the plain table's privileges, granted the same.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT i.relname::text AS final_name, x.indisunique AS is_unique,
               substring(pg_get_indexdef(x.indexrelid) FROM ' USING .*$') AS method
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = '"LiteLLM_SpendLogs"'::regclass AND NOT x.indisprimary
        UNION ALL
        SELECT want.final_name, false, want.method
        FROM (VALUES ('LiteLLM_SpendLogs_api_key_startTime_idx', 'USING btree (api_key, "startTime")',
                      ARRAY['api_key', 'startTime']),
                     ('LiteLLM_SpendLogs_litellm_call_id_idx', 'USING btree (litellm_call_id)',
                      ARRAY['litellm_call_id'])) AS want (final_name, method, cols)
        WHERE NOT EXISTS (SELECT 1 FROM pg_class i
                          WHERE i.relname = want.final_name
                            AND i.relnamespace = to_regnamespace(quote_ident(current_schema())))
          AND NOT EXISTS (SELECT 1 FROM pg_index x
                          WHERE x.indrelid = '"LiteLLM_SpendLogs"'::regclass AND NOT x.indisunique
                            AND ARRAY(SELECT a.attname::text
                                      FROM unnest(x.indkey::int2[]) WITH ORDINALITY k (attnum, ord)
                                      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                                      ORDER BY k.ord) = want.cols)
          AND (SELECT count(*) FROM pg_attribute a
               WHERE a.attrelid = '"LiteLLM_SpendLogs"'::regclass AND a.attname = ANY (want.cols)
                 AND NOT a.attisdropped) = cardinality(want.cols)
    LOOP
        INSERT INTO dbctl_logs_partition_index (final_name, new_name, aside_name)
        VALUES (r.final_name, 'dbctl_new_' || md5(r.final_name), 'dbctl_old_' || md5(r.final_name))
        ON CONFLICT (final_name) DO NOTHING;
        EXECUTE format('CREATE %%sINDEX IF NOT EXISTS %%I ON "LiteLLM_SpendLogs_new" %%s',
                       CASE WHEN r.is_unique THEN 'UNIQUE ' ELSE '' END, 'dbctl_new_' || md5(r.final_name),
                       r.method);
    END LOOP;
    FOR r IN
        SELECT a.privilege_type,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = '"LiteLLM_SpendLogs"'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %%s ON "LiteLLM_SpendLogs_new" TO %%s', r.privilege_type, r.grantee);
    END LOOP;
END
$$
