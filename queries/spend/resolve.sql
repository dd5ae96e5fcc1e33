-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- Ids for the names a user typed: keys by key_alias, key_name, hash or a hash prefix of 8+ hex
-- characters (either case) (deleted keys too), raw keys by their hash (%(raw_keys)s: hashed by dbctl, never sent;
-- an alias equal to a raw key is found by its SHA-256); users by id, SSO id or email (case-insensitive);
-- teams by id or alias (deleted teams too); orgs and end users by id or alias; agents by name or id;
-- models, providers and tags that occur in the daily tables. One row per (kind, value, id) with `how`
-- it matched (the caller applies common.identities' precedence); a value with no row matched nothing.
SELECT 'key' AS kind, v.value, k.token AS id,
       CASE WHEN k.token = v.value THEN 'token' WHEN k.key_alias = v.value THEN 'key_alias'
            WHEN k.key_name = v.value THEN 'key_name' ELSE 'prefix' END AS how, false AS deleted
FROM unnest(%(keys)s::text[]) AS v(value)
JOIN "LiteLLM_VerificationToken" AS k ON k.token = v.value OR k.key_alias = v.value OR k.key_name = v.value
    OR (v.value ~* '^[0-9a-f]{8,64}$' AND starts_with(k.token, lower(v.value)))
UNION
SELECT 'key', v.value, dk.token,
       CASE WHEN dk.token = v.value THEN 'token' WHEN dk.key_alias = v.value THEN 'key_alias'
            WHEN dk.key_name = v.value THEN 'key_name' ELSE 'prefix' END, true
FROM unnest(%(keys)s::text[]) AS v(value)
JOIN "LiteLLM_DeletedVerificationToken" AS dk ON dk.token = v.value OR dk.key_alias = v.value OR dk.key_name = v.value
    OR (v.value ~* '^[0-9a-f]{8,64}$' AND starts_with(dk.token, lower(v.value)))
UNION
SELECT 'key', v.value, k.token, CASE WHEN k.token = v.value THEN 'token' ELSE 'key_alias' END, false
FROM unnest(%(raw_keys)s::text[]) AS v(value)
JOIN "LiteLLM_VerificationToken" AS k ON k.token = v.value OR encode(sha256(convert_to(k.key_alias, 'UTF8')), 'hex') = v.value
UNION
SELECT 'key', v.value, dk.token, CASE WHEN dk.token = v.value THEN 'token' ELSE 'key_alias' END, true
FROM unnest(%(raw_keys)s::text[]) AS v(value)
JOIN "LiteLLM_DeletedVerificationToken" AS dk
    ON dk.token = v.value OR encode(sha256(convert_to(dk.key_alias, 'UTF8')), 'hex') = v.value
UNION ALL
SELECT 'user', v.value, u.user_id,
       CASE WHEN u.user_id = v.value THEN 'user_id' WHEN u.sso_user_id = v.value THEN 'sso_user_id'
            ELSE 'user_email' END, false
FROM unnest(%(users)s::text[]) AS v(value)
JOIN "LiteLLM_UserTable" AS u
    ON u.user_id = v.value OR u.sso_user_id = v.value OR lower(u.user_email) = lower(v.value)
UNION ALL
SELECT 'team', v.value, t.team_id, CASE WHEN t.team_id = v.value THEN 'id' ELSE 'alias' END, false
FROM unnest(%(teams)s::text[]) AS v(value)
JOIN "LiteLLM_TeamTable" AS t ON t.team_id = v.value OR t.team_alias = v.value
UNION
SELECT 'team', v.value, dt.team_id, CASE WHEN dt.team_id = v.value THEN 'id' ELSE 'alias' END, true
FROM unnest(%(teams)s::text[]) AS v(value)
JOIN "LiteLLM_DeletedTeamTable" AS dt ON dt.team_id = v.value OR dt.team_alias = v.value
UNION ALL
SELECT 'org', v.value, o.organization_id, CASE WHEN o.organization_id = v.value THEN 'id' ELSE 'alias' END, false
FROM unnest(%(orgs)s::text[]) AS v(value)
JOIN "LiteLLM_OrganizationTable" AS o ON o.organization_id = v.value OR o.organization_alias = v.value
UNION ALL
SELECT 'end_user', v.value, e.user_id, CASE WHEN e.user_id = v.value THEN 'id' ELSE 'alias' END, false
FROM unnest(%(end_users)s::text[]) AS v(value)
JOIN "LiteLLM_EndUserTable" AS e ON e.user_id = v.value OR e.alias = v.value
UNION ALL
SELECT 'agent', v.value, a.agent_id, 'id', false
FROM unnest(%(agents)s::text[]) AS v(value)
JOIN "LiteLLM_AgentsTable" AS a ON a.agent_id = v.value OR a.agent_name = v.value
UNION ALL
SELECT 'model', v.value, v.value, 'id', false
FROM unnest(%(models)s::text[]) AS v(value)
WHERE EXISTS (SELECT 1 FROM "LiteLLM_DailyUserSpend" AS dm WHERE dm.model = v.value)
UNION ALL
SELECT 'provider', v.value, v.value, 'id', false
FROM unnest(%(providers)s::text[]) AS v(value)
WHERE EXISTS (SELECT 1 FROM "LiteLLM_DailyUserSpend" AS dp WHERE dp.custom_llm_provider = v.value)
UNION ALL
SELECT 'tag', v.value, v.value, 'id', false
FROM unnest(%(tags)s::text[]) AS v(value)
WHERE EXISTS (SELECT 1 FROM "LiteLLM_DailyTagSpend" AS dg WHERE dg.tag = v.value)
