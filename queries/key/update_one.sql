-- requires: 20260810000000_add_verificationtoken_settings_updated_at
-- mode: write
-- returns: rowcount
-- /key/update: write one locked key's settings (the caller passes every field, those not given as they
-- were read under the lock), stamping updated_at and settings_updated_at as LiteLLM's key writes do.
-- Never spend, total_spend or last_active: proxies increment those.
UPDATE "LiteLLM_VerificationToken"
SET key_alias = %(key_alias)s, models = %(models)s::text[], max_budget = %(max_budget)s::double precision,
    budget_duration = %(budget_duration)s, budget_reset_at = %(budget_reset_at)s::timestamp,
    tpm_limit = %(tpm_limit)s::bigint, rpm_limit = %(rpm_limit)s::bigint, metadata = %(metadata)s::jsonb,
    expires = %(expires)s::timestamp, team_id = %(team_id)s, blocked = %(blocked)s::boolean,
    updated_by = %(actor)s, updated_at = %(now)s::timestamp, settings_updated_at = %(now)s::timestamp
WHERE token = %(token)s
