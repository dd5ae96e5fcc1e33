-- requires: 20251011084309_add_tag_table
-- mode: write
-- returns: rows
-- Apply tag counter corrections (budget/drift_tags) as increments (spend = spend + delta), so a
-- proxy's increments that land meanwhile survive. `entities` and `guards` keep the shape of
-- budget/repair_spend; tags have no window of their own to guard.
UPDATE "LiteLLM_TagTable" AS g SET spend = g.spend + d.delta
FROM unnest(%(entities)s::text[], %(ids)s::text[], %(deltas)s::float8[], %(guards)s::timestamp[])
    AS d(entity, id, delta, guard)
WHERE d.entity = 'tag' AND g.tag_name = d.id
RETURNING 'tag'::text AS entity, g.tag_name AS id
