-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /user/delete: the invitation links naming the deleted users (they point at the user rows: ON DELETE RESTRICT).
DELETE FROM "LiteLLM_InvitationLink"
WHERE user_id = ANY(%(ids)s::text[]) OR created_by = ANY(%(ids)s::text[]) OR updated_by = ANY(%(ids)s::text[])
