-- requires: 20260213105436_add_managed_vector_store_table
-- mode: write
-- returns: rowcount
-- identifiers: table
-- variant: LiteLLM_ManagedFileTable
-- variant: LiteLLM_ManagedObjectTable
-- variant: LiteLLM_ManagedVectorStoreTable
-- /key/regenerate of a key with neither user nor team: the files, batches and vector stores it owns
-- as `key:<token>` are owned by the new token (repoint_key_owned_managed_resources).
UPDATE {table} SET created_by = %(new_owner)s WHERE created_by = %(owner)s
