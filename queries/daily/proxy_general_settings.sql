-- requires: 20250326162113_baseline
-- mode: read
-- returns: rows
-- The proxy's general_settings as LiteLLM keeps them (the admin UI and /config/update write them; a
-- proxy with store_model_in_db lays them under its config.yaml): its cleanup job reads
-- maximum_spend_logs_retention_period and maximum_daily_tag_spend_retention_period from them.
SELECT param_value
FROM "LiteLLM_Config"
WHERE param_name = 'general_settings'
