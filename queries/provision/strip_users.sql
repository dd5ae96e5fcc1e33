-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /user/delete: the deleted users leave every team's roster (members_with_roles, order kept) and
-- their LiteLLM_TeamMembership and LiteLLM_OrganizationMembership rows go.
WITH tm AS (
    DELETE FROM "LiteLLM_TeamMembership" WHERE user_id = ANY(%(ids)s::text[])
), om AS (
    DELETE FROM "LiteLLM_OrganizationMembership" WHERE user_id = ANY(%(ids)s::text[])
)
UPDATE "LiteLLM_TeamTable" AS t
SET members_with_roles = (SELECT coalesce(jsonb_agg(e.entry ORDER BY e.position), '[]'::jsonb)
                          FROM jsonb_array_elements(t.members_with_roles) WITH ORDINALITY AS e(entry, position)
                          WHERE coalesce(e.entry ->> 'user_id', '') <> ALL(%(ids)s::text[]))
WHERE jsonb_typeof(t.members_with_roles) = 'array'
  AND EXISTS (SELECT FROM jsonb_array_elements(t.members_with_roles) AS m(entry)
              WHERE m.entry ->> 'user_id' = ANY(%(ids)s::text[]))
