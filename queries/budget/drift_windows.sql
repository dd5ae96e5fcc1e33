-- requires: 20250326162113_baseline
-- mode: fragment
-- The current window of each (budget_duration, budget_reset_at) pair in use, as counter repair
-- computed it (durations.previous_boundary: the boundary before budget_reset_at on LiteLLM's
-- calendar grid, else budget_reset_at minus the duration's length): `windows(duration, reset_at,
-- window_start)`. A row whose pair is not here (it changed since they were read) gets no window.
-- Opens a WITH list: `WITH`, this, then `, next AS (...)`.
windows AS (
    SELECT * FROM unnest(%(durations)s::text[], %(reset_ats)s::timestamp[], %(window_starts)s::timestamp[])
        AS w(duration, reset_at, window_start)
)
