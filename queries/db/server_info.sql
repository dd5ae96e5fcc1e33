-- requires: none
-- mode: read
-- returns: row
-- Server version, database, schema, user, TLS and replica state of this connection, for `db status`.
SELECT version() AS version,
       current_setting('server_version_num')::int AS version_num,
       current_database() AS database,
       current_schema() AS schema,
       current_user AS "user",
       coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS tls,
       pg_is_in_recovery() AS replica
