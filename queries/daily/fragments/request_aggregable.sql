-- requires: 20260915000000_add_daily_response_time
-- mode: fragment
-- AND-conditions on `sl`: requests LiteLLM can aggregate (metadata an object; usage_object, when
-- truthy, an object). Follows a WHERE condition.
AND jsonb_typeof(sl.metadata) = 'object'
AND NOT coalesce(jsonb_typeof(m.usage_object) <> 'object'
                 AND m.usage_object NOT IN ('false', '0', '""', '[]'), false)
