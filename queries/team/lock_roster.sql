-- requires: none
-- mode: write
-- returns: none
-- The lock LiteLLM takes around every change to a team's members (pg_advisory_xact_lock on
-- hashtext(team_id)), so a proxy's /team/member_add and dbctl never interleave on one roster.
SELECT pg_advisory_xact_lock(hashtext(%(team_id)s::text))
