-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /team/delete's sweep: the deleted teams leave every user's `teams` (in place, order kept) and
-- their LiteLLM_TeamMembership rows go.
WITH gone AS (
    DELETE FROM "LiteLLM_TeamMembership" WHERE team_id = ANY(%(ids)s::text[])
)
UPDATE "LiteLLM_UserTable"
SET teams = ARRAY(SELECT kept.team_id FROM unnest(teams) WITH ORDINALITY AS kept(team_id, position)
                  WHERE kept.team_id <> ALL(%(ids)s::text[]) ORDER BY kept.position)
WHERE teams && %(ids)s::text[]
