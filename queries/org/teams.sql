-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The teams of an organization.
SELECT team_id, team_alias, spend, max_budget FROM "LiteLLM_TeamTable"
WHERE organization_id = %(organization_id)s ORDER BY team_alias NULLS LAST, team_id
