-- requires: 20251210205007_add_daily_agent_spend_table
-- mode: fragment
-- The spend-log filters every `spend` statement on LiteLLM_SpendLogs `l` takes, each off when its
-- array is NULL: keys (hashes), users, teams, orgs, end users, agents, models, providers. NULL and ''
-- ids are one value (''). Tags differ per statement and are not here.
  AND (%(keys)s::text[] IS NULL OR l.api_key = ANY(%(keys)s::text[]))
  AND (%(users)s::text[] IS NULL OR COALESCE(l."user", '') = ANY(%(users)s::text[]))
  AND (%(teams)s::text[] IS NULL OR COALESCE(l.team_id, '') = ANY(%(teams)s::text[]))
  AND (%(orgs)s::text[] IS NULL OR COALESCE(l.organization_id, '') = ANY(%(orgs)s::text[]))
  AND (%(end_users)s::text[] IS NULL OR COALESCE(l.end_user, '') = ANY(%(end_users)s::text[]))
  AND (%(agents)s::text[] IS NULL OR COALESCE(l.agent_id, '') = ANY(%(agents)s::text[]))
  AND (%(models)s::text[] IS NULL OR l.model = ANY(%(models)s::text[]))
  AND (%(providers)s::text[] IS NULL OR COALESCE(l.custom_llm_provider, '') = ANY(%(providers)s::text[]))
