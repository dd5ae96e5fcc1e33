-- requires: 20250326162113_baseline
-- mode: write
-- returns: rowcount
-- /user/delete removes the invitation links naming the user (as invitee, creator or last updater):
-- their foreign keys to LiteLLM_UserTable are ON DELETE RESTRICT.
DELETE FROM "LiteLLM_InvitationLink"
WHERE user_id = %(user_id)s OR created_by = %(user_id)s OR updated_by = %(user_id)s
