-- requires: none
-- mode: write
-- returns: none
-- Move the conversion to its next phase (prepared -> copying -> swapped).
UPDATE dbctl_logs_partition
SET phase = %(phase)s::text,
    swapped_at = CASE WHEN %(phase)s::text = 'swapped' THEN now() ELSE swapped_at END
WHERE id = 1
