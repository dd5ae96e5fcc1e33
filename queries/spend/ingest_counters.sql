-- requires: 20260921190000_agent_identity
-- mode: write
-- returns: row
-- The entity spend counters incremented by exactly the staged rows (the spend logs ingest_insert just
-- inserted), as LiteLLM 1.109.1's spend writer does per request (litellm-database.md §2.1): the key
-- (spend, total_spend, last_active), its user, team and organization (rows that exist), the end user
-- (created when missing, as LiteLLM's upsert does) and each tag that has a LiteLLM_TagTable row (every
-- element of request_tags, a repeated tag counted each time, as LiteLLM iterates them). Increments,
-- never absolute values, in id order per table (LiteLLM's lock order). Returns the rows touched per table.
WITH per_key AS (
    SELECT s.api_key AS id, sum(s.spend) AS spend FROM "dbctl_spend_ingest" AS s
    WHERE s.api_key <> '' GROUP BY s.api_key
),
per_user AS (
    SELECT s."user" AS id, sum(s.spend) AS spend FROM "dbctl_spend_ingest" AS s
    WHERE s."user" <> '' GROUP BY s."user"
),
per_team AS (
    SELECT s.team_id AS id, sum(s.spend) AS spend FROM "dbctl_spend_ingest" AS s
    WHERE s.team_id <> '' GROUP BY s.team_id
),
per_org AS (
    SELECT s.organization_id AS id, sum(s.spend) AS spend FROM "dbctl_spend_ingest" AS s
    WHERE s.organization_id <> '' GROUP BY s.organization_id
),
per_end_user AS (
    SELECT s.end_user AS id, sum(s.spend) AS spend FROM "dbctl_spend_ingest" AS s
    WHERE s.end_user <> '' GROUP BY s.end_user
),
per_tag AS (
    SELECT x.tag #>> '{}' AS id, sum(s.spend) AS spend
    FROM "dbctl_spend_ingest" AS s
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.request_tags) = 'array'
                                                 THEN s.request_tags ELSE '[]'::jsonb END) AS x(tag)
    WHERE jsonb_typeof(x.tag) = 'string'
    GROUP BY 1
),
keys AS (
    UPDATE "LiteLLM_VerificationToken" AS v
    SET spend = v.spend + p.spend, total_spend = v.total_spend + p.spend, last_active = now() AT TIME ZONE 'UTC'
    FROM (SELECT * FROM per_key ORDER BY id) AS p WHERE v.token = p.id
    RETURNING 1
),
users AS (
    UPDATE "LiteLLM_UserTable" AS u SET spend = u.spend + p.spend
    FROM (SELECT * FROM per_user ORDER BY id) AS p WHERE u.user_id = p.id
    RETURNING 1
),
teams AS (
    UPDATE "LiteLLM_TeamTable" AS t SET spend = t.spend + p.spend
    FROM (SELECT * FROM per_team ORDER BY id) AS p WHERE t.team_id = p.id
    RETURNING 1
),
orgs AS (
    UPDATE "LiteLLM_OrganizationTable" AS o SET spend = o.spend + p.spend
    FROM (SELECT * FROM per_org ORDER BY id) AS p WHERE o.organization_id = p.id
    RETURNING 1
),
end_users AS (
    INSERT INTO "LiteLLM_EndUserTable" AS e (user_id, spend, blocked)
    SELECT p.id, p.spend, false FROM per_end_user AS p ORDER BY p.id
    ON CONFLICT (user_id) DO UPDATE SET spend = e.spend + EXCLUDED.spend
    RETURNING 1
),
tags AS (
    UPDATE "LiteLLM_TagTable" AS g SET spend = g.spend + p.spend, updated_at = now() AT TIME ZONE 'UTC'
    FROM (SELECT * FROM per_tag ORDER BY id) AS p WHERE g.tag_name = p.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM keys) AS keys, (SELECT count(*) FROM users) AS users,
       (SELECT count(*) FROM teams) AS teams, (SELECT count(*) FROM orgs) AS orgs,
       (SELECT count(*) FROM end_users) AS end_users, (SELECT count(*) FROM tags) AS tags
