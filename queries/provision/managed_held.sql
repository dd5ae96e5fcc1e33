-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- --prune: what deleting these teams, users and organizations would also delete, as LiteLLM's
-- /team/delete (the team's keys), /user/delete (the user's keys) and /organization/delete (its
-- teams and keys) do: each with whether a spec made it (only those may go with them).
SELECT 'key' AS kind, token AS id, coalesce(key_alias, key_name) AS label, team_id, user_id, organization_id,
       coalesce(metadata ->> 'dbctl_managed' = 'true', false) AS managed
FROM "LiteLLM_VerificationToken"
WHERE team_id = ANY(%(team_ids)s::text[]) OR user_id = ANY(%(user_ids)s::text[])
   OR organization_id = ANY(%(org_ids)s::text[])
UNION ALL
SELECT 'team', team_id, team_alias, team_id, NULL, organization_id,
       coalesce(metadata ->> 'dbctl_managed' = 'true', false)
FROM "LiteLLM_TeamTable"
WHERE organization_id = ANY(%(org_ids)s::text[])
ORDER BY 1, 2
