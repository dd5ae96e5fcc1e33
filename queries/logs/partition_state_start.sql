-- requires: none
-- mode: write
-- returns: none
-- Record a conversion as prepared: its interval and where the copy starts (the oldest "startTime").
INSERT INTO dbctl_logs_partition (id, phase, "interval", copied_until)
VALUES (1, 'prepared', %(interval)s, %(copied_until)s)
