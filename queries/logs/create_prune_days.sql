-- requires: none
-- mode: write
-- returns: none
-- dbctl's own record of the UTC days a prune has begun to delete (not a LiteLLM table, so not a
-- migration): a day's daily tables were checked against its logs (or --force was given) before
-- its first row went; a run killed midway leaves the row, and the next run finishes the day
-- without checking again what the first run has already made unmatchable. Deleted once the day is
-- gone. Schema comparisons leave dbctl_* tables out.
CREATE TABLE IF NOT EXISTS "dbctl_logs_prune_days" (
    "day"         DATE PRIMARY KEY,
    "started_at"  TIMESTAMPTZ NOT NULL DEFAULT now(),
    "forced"      BOOLEAN NOT NULL
)
