-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- LiteLLM_TeamMembership rows as /team/member_add upserts them ({user_id, team_id[, budget_id]},
-- spend 0); an existing row is left untouched.
INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, budget_id, spend)
SELECT r.user_id, r.team_id, r.budget_id, 0.0
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(user_id text, team_id text, budget_id text)
ON CONFLICT (user_id, team_id) DO NOTHING
