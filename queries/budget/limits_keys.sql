-- requires: 20250326162113_baseline
-- mode: write
-- returns: rows
-- Keys a budgets file names by key_alias (%(refs)s), with the limits budget sync manages, locked in
-- token order. An alias matching no key or several keys is reported by the caller.
SELECT token AS id, key_alias AS name, max_budget, NULL::float8 AS soft_budget,
       budget_duration, budget_reset_at, tpm_limit, rpm_limit
FROM "LiteLLM_VerificationToken"
WHERE key_alias = ANY(%(refs)s::text[])
ORDER BY token
FOR NO KEY UPDATE
