-- requires: 20251114173537_add_request_id_to_daily_tag_spend
-- mode: write
-- returns: rowcount
-- LiteLLM_DailyTagSpend.request_id of rows a reconcile inserted: a request that contributed to the
-- row (LiteLLM keeps an arbitrary one; dbctl takes the first writer's). Rows that already have one
-- keep it.
UPDATE "LiteLLM_DailyTagSpend" AS d
SET request_id = x.request_id
FROM unnest(%(ids)s::text[], %(request_ids)s::text[]) AS x(id, request_id)
WHERE d.id = x.id AND d.request_id IS NULL
