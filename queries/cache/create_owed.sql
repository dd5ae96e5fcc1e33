-- requires: none
-- mode: write
-- returns: none
-- dbctl's own record of cache invalidations owed to the proxies (not a LiteLLM table, so not a
-- migration): a run writes its entity references in the transaction whose changes make them owed,
-- and deletes them once Redis has them; rows left by a run that died are finished by the next one.
-- One row per run and kind of invalidation (refs: a JSON array of [kind, id, team_id, aliases]),
-- so recording 10^5 resets is one small statement. Schema comparisons leave dbctl_* tables out.
CREATE TABLE IF NOT EXISTS "dbctl_pending_invalidations" (
    "id"          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "created_at"  TIMESTAMPTZ NOT NULL DEFAULT now(),
    "command"     TEXT NOT NULL,
    "counters"    BOOLEAN NOT NULL,
    "refs"        JSONB NOT NULL
)
