-- requires: 20251219110931_add_deleted_keys_and_deleted_teams_tables
-- mode: write
-- returns: rowcount
-- What /team/delete keeps of a team (_persist_deleted_team_records): the whole row in
-- LiteLLM_DeletedTeamTable with when and by whom (every column the two tables share by name, so
-- any schema since the table came works); deleted_by_api_key is the caller's key, which dbctl has none of.
INSERT INTO "LiteLLM_DeletedTeamTable"
SELECT (jsonb_populate_record(NULL::"LiteLLM_DeletedTeamTable",
          to_jsonb(t) || jsonb_build_object('id', gen_random_uuid()::text, 'deleted_at', %(now)s::timestamp,
                                            'deleted_by', %(actor)s::text, 'deleted_by_api_key', NULL,
                                            'litellm_changed_by', %(actor)s::text))).*
FROM "LiteLLM_TeamTable" AS t
WHERE t.team_id = ANY(%(ids)s::text[])
