-- requires: 20260212143306_add_access_group_table
-- mode: write
-- returns: rowcount
-- After /team/delete, LiteLLM reconciles its access-group mirror (sync_team_access_group_membership):
-- a deleted team is named by no group's assigned_team_ids.
UPDATE "LiteLLM_AccessGroupTable"
SET assigned_team_ids = ARRAY(SELECT t FROM unnest(assigned_team_ids) AS t WHERE t <> ALL(%(ids)s::text[]))
WHERE assigned_team_ids && %(ids)s::text[]
