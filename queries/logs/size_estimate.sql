-- requires: none
-- mode: read
-- returns: rows
-- Rows of table %(table)s per %(unit)s ('month' or 'day') of timestamp column %(column)s from %(since)s on,
-- estimated from the planner's statistics alone (no scan): each leaf relation's reltuples spread over
-- its pg_stats histogram of the column (every bucket holds an equal share of the rows that are not among
-- the most common values, split across the units it spans in proportion to time) plus its most common
-- values. Whole only when every leaf that holds rows has statistics (logs/size_stats_coverage).
WITH leaves AS (
    SELECT c.relname, greatest(c.reltuples, 0) AS reltuples
    FROM pg_class AS p
    JOIN pg_namespace AS n ON n.oid = p.relnamespace AND n.nspname = current_schema()
    CROSS JOIN LATERAL (SELECT r.relid, r.isleaf FROM pg_partition_tree(p.oid) AS r
                        UNION SELECT p.oid, true WHERE p.relkind = 'r') AS t
    JOIN pg_class AS c ON c.oid = t.relid AND t.isleaf
    WHERE p.relname = %(table)s AND p.relkind IN ('r', 'p')
), stats AS (
    SELECT lf.reltuples, st.histogram_bounds::text::timestamp[] AS bounds,
           coalesce(st.most_common_vals::text::timestamp[], '{}') AS mcv,
           coalesce(st.most_common_freqs, '{}') AS mcf, st.null_frac
    FROM leaves AS lf
    JOIN pg_stats AS st ON st.schemaname = current_schema() AND st.tablename = lf.relname
                       AND st.attname = %(column)s AND NOT st.inherited
), buckets AS (
    SELECT bk.lo, bk.hi,
           sv.reltuples * greatest(1 - sv.null_frac - (SELECT coalesce(sum(f), 0) FROM unnest(sv.mcf) AS f), 0)
               / (cardinality(sv.bounds) - 1) AS share
    FROM stats AS sv
    CROSS JOIN LATERAL (SELECT sv.bounds[i] AS lo, sv.bounds[i + 1] AS hi
                        FROM generate_series(1, cardinality(sv.bounds) - 1) AS i) AS bk
    WHERE cardinality(sv.bounds) > 1
), pieces AS (
    SELECT un.unit_start,
           bu.share * CASE WHEN bu.hi = bu.lo THEN 1
                           ELSE extract(epoch FROM least(bu.hi, un.unit_start + ('1 ' || %(unit)s)::interval)
                                               - greatest(bu.lo, un.unit_start))
                                / extract(epoch FROM bu.hi - bu.lo) END AS part
    FROM buckets AS bu
    CROSS JOIN LATERAL generate_series(date_trunc(%(unit)s, bu.lo), date_trunc(%(unit)s, bu.hi),
                                       ('1 ' || %(unit)s)::interval) AS un(unit_start)
    WHERE bu.hi > un.unit_start OR bu.hi = bu.lo
    UNION ALL
    SELECT date_trunc(%(unit)s, mc.value), sm.reltuples * mc.freq
    FROM stats AS sm
    CROSS JOIN LATERAL unnest(sm.mcv, sm.mcf) AS mc(value, freq)
)
SELECT pc.unit_start AS bucket, sum(pc.part)::float8 AS rows
FROM pieces AS pc
WHERE pc.unit_start >= date_trunc(%(unit)s, %(since)s::timestamp)
GROUP BY pc.unit_start
ORDER BY pc.unit_start
