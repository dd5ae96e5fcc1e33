-- requires: none
-- mode: write
-- returns: none
-- dbctl's record of a conversion in progress (one row): its phase, interval and how far the copy got.
-- Dropped when the conversion ends; dbctl_* tables are left out of `migrate diff`.
CREATE TABLE IF NOT EXISTS dbctl_logs_partition (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    phase text NOT NULL,
    "interval" text NOT NULL,
    copied_until timestamp(3),
    rows_copied bigint NOT NULL DEFAULT 0,
    batches integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    swapped_at timestamptz
)
