-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Team memberships a plan changes, locked in sorted key order (as LiteLLM's spend flush locks them, so the
-- two never deadlock), with `seen` exactly as team/memberships_for_plan computes it: a spend increment
-- meanwhile leaves it equal, a change to anything the plan compared does not.
SELECT user_id || chr(31) || team_id AS id,
       md5(ROW(user_id, team_id, budget_id)::text) AS seen
FROM "LiteLLM_TeamMembership"
WHERE (user_id, team_id) IN (SELECT * FROM unnest(%(user_ids)s::text[], %(group_ids)s::text[]))
ORDER BY user_id COLLATE "C", team_id COLLATE "C"
FOR NO KEY UPDATE
