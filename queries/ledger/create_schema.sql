-- requires: none
-- mode: write
-- returns: none
-- identifiers: schema
-- Create the `?schema=` schema the ledger and LiteLLM's tables live in, as Prisma does on deploy.
CREATE SCHEMA IF NOT EXISTS {schema}
