-- requires: 20250326162113_baseline
-- mode: fragment
-- The filters of `audit list` and `audit export` on LiteLLM_AuditLog `a`, each off when NULL: LiteLLM
-- table names, actions, actors (changed_by), [since, until) on updated_at (naive UTC, as LiteLLM
-- writes it), and objects. An object is a (table_name, id) pair: the row of that table with that
-- object_id ('' as the table: any table); a team or organization also matches its membership rows
-- (object_id `team_id:user_id`, as dbctl writes them) and a user the membership rows naming it.
  AND (%(tables)s::text[] IS NULL OR a.table_name = ANY(%(tables)s::text[]))
  AND (%(actions)s::text[] IS NULL OR a.action = ANY(%(actions)s::text[]))
  AND (%(actors)s::text[] IS NULL OR a.changed_by = ANY(%(actors)s::text[]))
  AND (%(since)s::timestamp IS NULL OR a.updated_at >= %(since)s::timestamp)
  AND (%(until)s::timestamp IS NULL OR a.updated_at < %(until)s::timestamp)
  AND (%(object_ids)s::text[] IS NULL OR EXISTS (
        SELECT 1 FROM unnest(%(object_tables)s::text[], %(object_ids)s::text[]) AS obj(table_name, id)
        WHERE (a.object_id = obj.id AND (obj.table_name = '' OR a.table_name = obj.table_name))
           OR (obj.table_name = 'LiteLLM_TeamTable' AND a.table_name = 'LiteLLM_TeamMembership'
               AND starts_with(a.object_id, obj.id || ':'))
           OR (obj.table_name = 'LiteLLM_OrganizationTable' AND a.table_name = 'LiteLLM_OrganizationMembership'
               AND starts_with(a.object_id, obj.id || ':'))
           OR (obj.table_name = 'LiteLLM_UserTable'
               AND a.table_name IN ('LiteLLM_TeamMembership', 'LiteLLM_OrganizationMembership')
               AND right(a.object_id, length(obj.id) + 1) = ':' || obj.id)))
