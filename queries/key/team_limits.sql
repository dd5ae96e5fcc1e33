-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The throughput a team's keys hold (tpm_limit, rpm_limit, and per model in metadata): what a key
-- asking for guaranteed throughput must fit beside in the team's limits, as /key/generate checks
-- (LiteLLM's _check_team_key_limits counts every key of the team).
SELECT token, team_id, tpm_limit, rpm_limit,
       jsonb_build_object('model_tpm_limit', metadata -> 'model_tpm_limit',
                          'model_rpm_limit', metadata -> 'model_rpm_limit') AS metadata
FROM "LiteLLM_VerificationToken"
WHERE team_id = ANY(%(team_ids)s::text[])
