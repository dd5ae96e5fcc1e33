-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The proxy's litellm_settings as a proxy running with store_model_in_db keeps them (it merges
-- them over its config.yaml at start-up): default_internal_user_params, default_team_params,
-- max_internal_user_budget, internal_user_budget_duration are what /user/new and /team/new create with.
SELECT param_value
FROM "LiteLLM_Config"
WHERE param_name = 'litellm_settings'
