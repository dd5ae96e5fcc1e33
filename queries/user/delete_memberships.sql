-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- identifiers: table
-- variant: LiteLLM_TeamMembership
-- variant: LiteLLM_OrganizationMembership
-- /user/delete's last sweep: every team or organization membership row of the user still there
-- (a team that no longer exists keeps its rows: there is no foreign key).
DELETE FROM {table} WHERE user_id = %(user_id)s
