-- requires: 20250326162113_baseline
-- mode: read
-- returns: row
-- The whole organization row, locked until the delete commits (the audit row's before_value), with
-- the ids of its teams, which /organization/delete deletes with it.
SELECT *, ARRAY(SELECT t.team_id FROM "LiteLLM_TeamTable" AS t WHERE t.organization_id = %(org_id)s
                ORDER BY t.team_id) AS team_ids
FROM "LiteLLM_OrganizationTable" WHERE organization_id = %(org_id)s FOR UPDATE
