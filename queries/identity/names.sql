-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- Every name of one kind (%(kind)s: user, team, org, key, end_user) a reference may use, to offer
-- the closest ones when a reference names nothing: users by email and id, teams and organizations
-- by alias and id, keys by alias, end users by id and alias.
SELECT name FROM (
    SELECT user_email AS name FROM "LiteLLM_UserTable" WHERE %(kind)s = 'user'
    UNION SELECT user_id FROM "LiteLLM_UserTable" WHERE %(kind)s = 'user'
    UNION SELECT team_alias FROM "LiteLLM_TeamTable" WHERE %(kind)s = 'team'
    UNION SELECT team_id FROM "LiteLLM_TeamTable" WHERE %(kind)s = 'team'
    UNION SELECT organization_alias FROM "LiteLLM_OrganizationTable" WHERE %(kind)s = 'org'
    UNION SELECT organization_id FROM "LiteLLM_OrganizationTable" WHERE %(kind)s = 'org'
    UNION SELECT key_alias FROM "LiteLLM_VerificationToken" WHERE %(kind)s = 'key'
    UNION SELECT user_id FROM "LiteLLM_EndUserTable" WHERE %(kind)s = 'end_user'
    UNION SELECT alias FROM "LiteLLM_EndUserTable" WHERE %(kind)s = 'end_user'
) AS names
WHERE name IS NOT NULL AND name <> ''
LIMIT 100000
