-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- Ids for the names a user typed: keys by key_alias, key_name, hash or a hash prefix of 8+ hex
-- characters (either case) (deleted keys too), raw keys by their hash (%(raw_keys)s: hashed by dbctl, never sent;
-- an alias equal to a raw key is found by its SHA-256); users by email (case-insensitive) or id; teams
-- by alias or id (deleted teams too); orgs by alias or id; end users by id or alias; agents by name
-- or id; models, providers and tags that occur in the daily tables. One row per (kind, value, id); a
-- value with no row matched nothing.
SELECT 'key' AS kind, v.value, k.token AS id
FROM unnest(%(keys)s::text[]) AS v(value)
JOIN "LiteLLM_VerificationToken" AS k ON k.token = v.value OR k.key_alias = v.value OR k.key_name = v.value
    OR (v.value ~* '^[0-9a-f]{8,64}$' AND starts_with(k.token, lower(v.value)))
UNION
SELECT 'key', v.value, dk.token
FROM unnest(%(keys)s::text[]) AS v(value)
JOIN "LiteLLM_DeletedVerificationToken" AS dk ON dk.token = v.value OR dk.key_alias = v.value OR dk.key_name = v.value
    OR (v.value ~* '^[0-9a-f]{8,64}$' AND starts_with(dk.token, lower(v.value)))
UNION
SELECT 'key', v.value, k.token
FROM unnest(%(raw_keys)s::text[]) AS v(value)
JOIN "LiteLLM_VerificationToken" AS k ON k.token = v.value OR encode(sha256(convert_to(k.key_alias, 'UTF8')), 'hex') = v.value
UNION
SELECT 'key', v.value, dk.token
FROM unnest(%(raw_keys)s::text[]) AS v(value)
JOIN "LiteLLM_DeletedVerificationToken" AS dk
    ON dk.token = v.value OR encode(sha256(convert_to(dk.key_alias, 'UTF8')), 'hex') = v.value
UNION ALL
SELECT 'user', v.value, u.user_id
FROM unnest(%(users)s::text[]) AS v(value)
JOIN "LiteLLM_UserTable" AS u ON u.user_id = v.value OR lower(u.user_email) = lower(v.value)
UNION ALL
SELECT 'team', v.value, t.team_id
FROM unnest(%(teams)s::text[]) AS v(value)
JOIN "LiteLLM_TeamTable" AS t ON t.team_id = v.value OR t.team_alias = v.value
UNION
SELECT 'team', v.value, dt.team_id
FROM unnest(%(teams)s::text[]) AS v(value)
JOIN "LiteLLM_DeletedTeamTable" AS dt ON dt.team_id = v.value OR dt.team_alias = v.value
UNION ALL
SELECT 'org', v.value, o.organization_id
FROM unnest(%(orgs)s::text[]) AS v(value)
JOIN "LiteLLM_OrganizationTable" AS o ON o.organization_id = v.value OR o.organization_alias = v.value
UNION ALL
SELECT 'end_user', v.value, e.user_id
FROM unnest(%(end_users)s::text[]) AS v(value)
JOIN "LiteLLM_EndUserTable" AS e ON e.user_id = v.value OR e.alias = v.value
UNION ALL
SELECT 'agent', v.value, a.agent_id
FROM unnest(%(agents)s::text[]) AS v(value)
JOIN "LiteLLM_AgentsTable" AS a ON a.agent_id = v.value OR a.agent_name = v.value
UNION ALL
SELECT 'model', v.value, v.value
FROM unnest(%(models)s::text[]) AS v(value)
WHERE EXISTS (SELECT 1 FROM "LiteLLM_DailyUserSpend" AS dm WHERE dm.model = v.value)
UNION ALL
SELECT 'provider', v.value, v.value
FROM unnest(%(providers)s::text[]) AS v(value)
WHERE EXISTS (SELECT 1 FROM "LiteLLM_DailyUserSpend" AS dp WHERE dp.custom_llm_provider = v.value)
UNION ALL
SELECT 'tag', v.value, v.value
FROM unnest(%(tags)s::text[]) AS v(value)
WHERE EXISTS (SELECT 1 FROM "LiteLLM_DailyTagSpend" AS dg WHERE dg.tag = v.value)
