-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Deployments stored in the database whose model_info.ptu_shares lists one of these teams: /team/delete
-- and /organization/delete refuse such a team (raise_if_teams_hold_ptu_shares), which would keep being
-- billed for capacity nobody can use.
SELECT m.model_id, m.model_name, s.team_id
FROM "LiteLLM_ProxyModelTable" AS m,
     LATERAL jsonb_object_keys(CASE WHEN jsonb_typeof(m.model_info -> 'ptu_shares') = 'object'
                                    THEN m.model_info -> 'ptu_shares' ELSE '{}'::jsonb END) AS s(team_id)
WHERE s.team_id = ANY(%(ids)s::text[])
ORDER BY s.team_id, m.model_id
