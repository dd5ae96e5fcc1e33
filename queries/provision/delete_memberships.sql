-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- identifiers: table, group
-- variant: LiteLLM_TeamMembership, team_id
-- variant: LiteLLM_OrganizationMembership, organization_id
-- /team/member_delete's LiteLLM_TeamMembership part, or /organization/member_delete: remove these
-- (user_id, team_id) or (user_id, organization_id) rows.
DELETE FROM {table} AS m
USING jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, {group} text)
WHERE m.user_id = r.user_id AND m.{group} = r.{group}
