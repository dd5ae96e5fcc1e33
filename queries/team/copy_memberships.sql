-- requires: 20250326162113_baseline
-- mode: write
-- returns: none
-- LiteLLM_TeamMembership rows as /team/member_add creates them ({user_id, team_id[, budget_id]},
-- spend 0), by COPY.
COPY "LiteLLM_TeamMembership" (user_id, team_id, budget_id, spend) FROM STDIN
