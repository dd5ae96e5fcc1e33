-- requires: none
-- mode: write
-- returns: none
-- One copy batch done (in the batch's own transaction): the copy resumes from `copied_until`.
UPDATE dbctl_logs_partition
SET copied_until = %(copied_until)s, rows_copied = rows_copied + %(rows)s, batches = batches + 1
WHERE id = 1
