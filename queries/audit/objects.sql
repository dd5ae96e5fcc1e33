-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- What `audit list --object REF` may name, one row per (kind, id) with `how` it matched (the caller
-- applies common.identities' precedence): keys by token, alias, key_name or a token prefix of 8+ hex
-- characters, deleted keys too (%(token)s: the token the reference is or hashes to; a raw key is
-- hashed by dbctl before any query and then %(alias)s is NULL); users by id, SSO id or email
-- (case-insensitive); teams (deleted ones too), organizations and end users by id or alias; and
-- `audit` when an audit row's object_id is the reference itself (an object since deleted).
SELECT 'key' AS kind, k.token AS id,
       CASE WHEN k.token = %(token)s THEN 'token' WHEN k.key_alias = %(alias)s THEN 'key_alias'
            WHEN k.key_name = %(alias)s THEN 'key_name' ELSE 'prefix' END AS how
FROM (SELECT token, key_alias, key_name FROM "LiteLLM_VerificationToken"
      UNION SELECT token, key_alias, key_name FROM "LiteLLM_DeletedVerificationToken") AS k
WHERE k.token = %(token)s OR k.key_alias = %(alias)s OR k.key_name = %(alias)s
   OR (%(prefix)s::text IS NOT NULL AND starts_with(k.token, %(prefix)s::text))
UNION
SELECT 'user', u.user_id,
       CASE WHEN u.user_id = %(ref)s THEN 'user_id' WHEN u.sso_user_id = %(ref)s THEN 'sso_user_id'
            ELSE 'user_email' END
FROM "LiteLLM_UserTable" AS u
WHERE %(alias)s::text IS NOT NULL
  AND (u.user_id = %(ref)s OR u.sso_user_id = %(ref)s OR lower(u.user_email) = lower(%(ref)s))
UNION
SELECT 'team', t.team_id, CASE WHEN t.team_id = %(ref)s THEN 'id' ELSE 'alias' END
FROM (SELECT team_id, team_alias FROM "LiteLLM_TeamTable"
      UNION SELECT team_id, team_alias FROM "LiteLLM_DeletedTeamTable") AS t
WHERE %(alias)s::text IS NOT NULL AND (t.team_id = %(ref)s OR t.team_alias = %(ref)s)
UNION
SELECT 'org', o.organization_id, CASE WHEN o.organization_id = %(ref)s THEN 'id' ELSE 'alias' END
FROM "LiteLLM_OrganizationTable" AS o
WHERE %(alias)s::text IS NOT NULL AND (o.organization_id = %(ref)s OR o.organization_alias = %(ref)s)
UNION
SELECT 'end_user', e.user_id, CASE WHEN e.user_id = %(ref)s THEN 'id' ELSE 'alias' END
FROM "LiteLLM_EndUserTable" AS e
WHERE %(alias)s::text IS NOT NULL AND (e.user_id = %(ref)s OR e.alias = %(ref)s)
UNION
SELECT 'audit', v.id, 'object_id'
FROM (VALUES (%(token)s::text), (%(ref)s::text)) AS v(id)
WHERE v.id IS NOT NULL AND EXISTS (SELECT 1 FROM "LiteLLM_AuditLog" AS a WHERE a.object_id = v.id)
LIMIT 1000
