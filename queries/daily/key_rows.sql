-- requires: 20260106155622_add_endpoint_to_daily_activity_tables
-- mode: write
-- returns: rows
-- identifiers: LiteLLM_DailyUserSpend, user_id
-- variant: LiteLLM_DailyUserSpend, user_id
-- variant: LiteLLM_DailyTeamSpend, team_id
-- variant: LiteLLM_DailyOrganizationSpend, organization_id
-- variant: LiteLLM_DailyEndUserSpend, end_user_id
-- variant: LiteLLM_DailyAgentSpend, agent_id
-- variant: LiteLLM_DailyTagSpend, tag
-- Lock the stored rows of some keys on one day, matched by their key with '' for NULL (so legacy
-- rows with NULL key columns are found under their '' key): the rows a reconcile merges, corrects
-- and prunes. The keys come in LiteLLM's lock order (its writer sorts by the same key, compared as
-- Python compares strings), so a late proxy flush waits for this transaction instead of
-- deadlocking with it. {LiteLLM_DailyUserSpend} stands for any of the six daily tables and
-- {user_id} for its entity column.
SELECT d.id, k.position, to_char(d.created_at, 'YYYYMMDDHH24MISSMS') AS created,
       (d.{user_id} IS NULL OR d.model IS NULL OR d.custom_llm_provider IS NULL
        OR d.mcp_namespaced_tool_name IS NULL OR d.endpoint IS NULL) AS legacy
FROM {LiteLLM_DailyUserSpend} AS d
JOIN unnest(%(entity_ids)s::text[], %(api_keys)s::text[], %(models)s::text[], %(custom_llm_providers)s::text[],
            %(mcp_namespaced_tool_names)s::text[], %(endpoints)s::text[]) WITH ORDINALITY
     AS k(entity_id, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint, position)
  ON coalesce(d.{user_id}, '') = k.entity_id AND d.api_key = k.api_key AND coalesce(d.model, '') = k.model
     AND coalesce(d.custom_llm_provider, '') = k.custom_llm_provider
     AND coalesce(d.mcp_namespaced_tool_name, '') = k.mcp_namespaced_tool_name
     AND coalesce(d.endpoint, '') = k.endpoint
WHERE d.date = %(date)s
ORDER BY k.position, legacy, created, d.id
FOR UPDATE
