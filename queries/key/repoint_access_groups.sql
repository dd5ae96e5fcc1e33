-- requires: 20260212143306_add_access_group_table
-- mode: write
-- returns: rowcount
-- /key/regenerate: access groups that list the old token list the new one instead
-- (sync_key_regeneration_access_group_membership); removing the new one first keeps a repeat from
-- listing it twice.
UPDATE "LiteLLM_AccessGroupTable"
SET assigned_key_ids = array_append(array_remove(array_remove(assigned_key_ids, %(token)s), %(new_token)s),
                                    %(new_token)s)
WHERE %(token)s = ANY(assigned_key_ids)
