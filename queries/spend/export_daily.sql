-- requires: 20260915000000_add_daily_response_time
-- mode: read
-- returns: rows
-- identifiers: LiteLLM_DailyUserSpend, user_id
-- variant: LiteLLM_DailyUserSpend, user_id
-- variant: LiteLLM_DailyTeamSpend, team_id
-- variant: LiteLLM_DailyOrganizationSpend, organization_id
-- variant: LiteLLM_DailyEndUserSpend, end_user_id
-- variant: LiteLLM_DailyAgentSpend, agent_id
-- variant: LiteLLM_DailyTagSpend, tag
-- The rows of ONE daily table ({LiteLLM_DailyUserSpend} with entity column {user_id}: any of the six,
-- composed by spend.py; %(daily_table)s is its short name: user, team, org, end_user, agent, tag) for
-- whole UTC days, filtered, with each key's alias and key_name beside its hash. The entity column is
-- entity_id whatever the table calls it; the team table's PTU flat-cost sentinel rows are left out.
-- `spend export` streams it as CSV or JSON lines with sqlfiles.copy_out.
SELECT %(daily_table)s::text AS entity_type, d.{user_id} AS entity_id,
       d.date, d.api_key, d.model, d.model_group, d.custom_llm_provider, d.mcp_namespaced_tool_name, d.endpoint,
       d.prompt_tokens, d.completion_tokens, d.cache_read_input_tokens, d.cache_creation_input_tokens, d.spend,
       d.api_requests, d.successful_requests, d.failed_requests, d.total_response_time_ms, d.timed_requests,
       k.key_alias, k.key_name
FROM {LiteLLM_DailyUserSpend} AS d
LEFT JOIN "LiteLLM_VerificationToken" AS k ON k.token = d.api_key
WHERE d.date >= %(first_day)s AND d.date <= %(last_day)s AND d.api_key IS DISTINCT FROM '__ptu_flat_cost__'
  AND (%(keys)s::text[] IS NULL OR d.api_key = ANY(%(keys)s::text[]))
  AND (%(models)s::text[] IS NULL OR COALESCE(d.model, '') = ANY(%(models)s::text[]))
  AND (%(providers)s::text[] IS NULL OR COALESCE(d.custom_llm_provider, '') = ANY(%(providers)s::text[]))
  AND (%(entities)s::text[] IS NULL OR COALESCE(d.{user_id}, '') = ANY(%(entities)s::text[]))
