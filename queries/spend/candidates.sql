-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: read
-- returns: rows
-- Every name of one kind (%(kind)s: key, user, team, org, end_user, agent, model, provider, tag), to
-- suggest close matches for a value that matched nothing. Models and tags are read with a skip scan
-- over their index (one probe per distinct value), not by reading the daily tables.
SELECT name FROM (
    SELECT key_alias AS name FROM "LiteLLM_VerificationToken" WHERE %(kind)s = 'key'
    UNION SELECT key_name FROM "LiteLLM_VerificationToken" WHERE %(kind)s = 'key'
    UNION SELECT key_alias FROM "LiteLLM_DeletedVerificationToken" WHERE %(kind)s = 'key'
    UNION SELECT user_email FROM "LiteLLM_UserTable" WHERE %(kind)s = 'user'
    UNION SELECT team_alias FROM "LiteLLM_TeamTable" WHERE %(kind)s = 'team'
    UNION SELECT team_alias FROM "LiteLLM_DeletedTeamTable" WHERE %(kind)s = 'team'
    UNION SELECT organization_alias FROM "LiteLLM_OrganizationTable" WHERE %(kind)s = 'org'
    UNION SELECT user_id FROM "LiteLLM_EndUserTable" WHERE %(kind)s = 'end_user'
    UNION SELECT alias FROM "LiteLLM_EndUserTable" WHERE %(kind)s = 'end_user'
    UNION SELECT agent_name FROM "LiteLLM_AgentsTable" WHERE %(kind)s = 'agent'
    UNION SELECT custom_llm_provider FROM "LiteLLM_DailyUserSpend" WHERE %(kind)s = 'provider'
    UNION (
        WITH RECURSIVE models(model) AS (
            SELECT min(model) FROM "LiteLLM_DailyUserSpend" WHERE %(kind)s = 'model'
            UNION ALL
            SELECT (SELECT min(dm.model) FROM "LiteLLM_DailyUserSpend" AS dm WHERE dm.model > m.model)
            FROM models AS m WHERE m.model IS NOT NULL
        )
        SELECT model FROM models
    )
    UNION (
        WITH RECURSIVE tags(tag) AS (
            SELECT min(tag) FROM "LiteLLM_DailyTagSpend" WHERE %(kind)s = 'tag'
            UNION ALL
            SELECT (SELECT min(dg.tag) FROM "LiteLLM_DailyTagSpend" AS dg WHERE dg.tag > t.tag)
            FROM tags AS t WHERE t.tag IS NOT NULL
        )
        SELECT tag FROM tags
    )
) AS names
WHERE name IS NOT NULL AND name <> ''
LIMIT 100000
