-- requires: none
-- mode: fragment
-- The last part of a spend series: from CTE `grouped` (day, group_id and the summed counters), the
-- %(top)s groups with the most spend keep their id and the rest fold into one "other" row per day
-- (is_other, with how many groups it holds). Follows `WITH grouped AS (...),`.
ranked AS (
    SELECT group_id, row_number() OVER (ORDER BY sum(spend) DESC, group_id) AS rank
    FROM grouped GROUP BY group_id
)
SELECT g.day,
       CASE WHEN r.rank <= %(top)s THEN g.group_id END AS group_id,
       r.rank > %(top)s AS is_other,
       count(DISTINCT g.group_id) AS groups,
       COALESCE(sum(g.spend), 0)::float8 AS spend,
       COALESCE(sum(g.prompt_tokens), 0)::bigint AS prompt_tokens,
       COALESCE(sum(g.completion_tokens), 0)::bigint AS completion_tokens,
       COALESCE(sum(g.cache_read_input_tokens), 0)::bigint AS cache_read_input_tokens,
       COALESCE(sum(g.cache_creation_input_tokens), 0)::bigint AS cache_creation_input_tokens,
       COALESCE(sum(g.requests), 0)::bigint AS requests,
       COALESCE(sum(g.successful_requests), 0)::bigint AS successful_requests,
       COALESCE(sum(g.failed_requests), 0)::bigint AS failed_requests
FROM grouped AS g
JOIN ranked AS r ON r.group_id = g.group_id
GROUP BY 1, 2, 3
ORDER BY 1, 3, 5 DESC, 2
