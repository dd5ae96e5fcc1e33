-- requires: none
-- mode: read
-- returns: row
-- Whether the Prisma migration ledger exists in the current schema (search_path), and which of the
-- given tables exist there: the tables that tell a LiteLLM release where the ledger cannot
-- (common/releases.py MARKER_TABLES). Read with the ledger, once per connection.
SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists,
       ARRAY(SELECT t FROM unnest(%(tables)s::text[]) AS t WHERE to_regclass(quote_ident(t)) IS NOT NULL) AS tables
