-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The keys of an organization, locked in token order: /organization/delete deletes them.
SELECT token, key_alias, key_name, user_id, team_id, organization_id, blocked, spend
FROM "LiteLLM_VerificationToken" WHERE organization_id = %(org_id)s
ORDER BY token FOR UPDATE
