-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- /team/delete's delete_team_models: the teams' own (BYOK) deployments, named model_name_{team_id}_* with
-- model_info.team_id the team's; returns what it deleted.
DELETE FROM "LiteLLM_ProxyModelTable" AS m
USING unnest(%(ids)s::text[]) AS t(team_id)
WHERE starts_with(m.model_name, 'model_name_' || t.team_id || '_')
  AND m.model_info ->> 'team_id' = t.team_id
RETURNING m.model_id, m.model_name, t.team_id
