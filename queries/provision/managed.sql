-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- --prune: the objects `provision apply` created from a spec (metadata.dbctl_managed = true), the
-- only ones it may delete; what they are called and whom they belong to.
SELECT 'org' AS kind, organization_id AS id, organization_alias AS label, NULL::text AS team_id,
       NULL::text AS user_id, NULL::text AS organization_id
FROM "LiteLLM_OrganizationTable" WHERE metadata ->> 'dbctl_managed' = 'true'
UNION ALL
SELECT 'team', team_id, team_alias, team_id, NULL, organization_id
FROM "LiteLLM_TeamTable" WHERE metadata ->> 'dbctl_managed' = 'true'
UNION ALL
SELECT 'user', user_id, user_email, NULL, user_id, organization_id
FROM "LiteLLM_UserTable" WHERE metadata ->> 'dbctl_managed' = 'true'
UNION ALL
SELECT 'key', token, coalesce(key_alias, key_name), team_id, user_id, organization_id
FROM "LiteLLM_VerificationToken" WHERE metadata ->> 'dbctl_managed' = 'true'
