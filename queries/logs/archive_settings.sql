-- requires: none
-- mode: read
-- returns: row
-- Output settings for the current transaction of an archive, whatever the database or role sets: ISO
-- dates (what the Parquet writer parses) and float8 printed with the shortest exact digits (so the
-- spend in a file equals the spend in the table).
SELECT set_config('DateStyle', 'ISO, MDY', true) AS datestyle,
       set_config('extra_float_digits', '1', true) AS extra_float_digits
