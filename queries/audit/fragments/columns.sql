-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: fragment
-- The columns `audit list`, `show` and `export` print for LiteLLM_AuditLog `a`: the row as stored,
-- and object_name, what people call the object (a key's alias or key_name, deleted keys too; a
-- user's email; a team's, organization's or end user's alias), NULL when it has none or is gone.
a.id, a.updated_at, a.action, a.table_name, a.object_id,
       CASE a.table_name
           WHEN 'LiteLLM_VerificationToken' THEN COALESCE(
               (SELECT COALESCE(vt.key_alias, vt.key_name) FROM "LiteLLM_VerificationToken" AS vt
                WHERE vt.token = a.object_id),
               (SELECT COALESCE(dvt.key_alias, dvt.key_name) FROM "LiteLLM_DeletedVerificationToken" AS dvt
                WHERE dvt.token = a.object_id ORDER BY dvt.deleted_at DESC LIMIT 1))
           WHEN 'LiteLLM_UserTable' THEN
               (SELECT COALESCE(ut.user_email, ut.user_alias) FROM "LiteLLM_UserTable" AS ut WHERE ut.user_id = a.object_id)
           WHEN 'LiteLLM_TeamTable' THEN COALESCE(
               (SELECT tt.team_alias FROM "LiteLLM_TeamTable" AS tt WHERE tt.team_id = a.object_id),
               (SELECT dtt.team_alias FROM "LiteLLM_DeletedTeamTable" AS dtt
                WHERE dtt.team_id = a.object_id ORDER BY dtt.deleted_at DESC LIMIT 1))
           WHEN 'LiteLLM_OrganizationTable' THEN
               (SELECT ot.organization_alias FROM "LiteLLM_OrganizationTable" AS ot
                WHERE ot.organization_id = a.object_id)
           WHEN 'LiteLLM_EndUserTable' THEN
               (SELECT et.alias FROM "LiteLLM_EndUserTable" AS et WHERE et.user_id = a.object_id)
       END AS object_name,
       a.changed_by, a.changed_by_api_key, a.before_value, a.updated_values
