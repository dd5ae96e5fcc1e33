-- requires: none
-- mode: read
-- returns: rows
-- Indexes on a table that do the same job as the request-log index `columns` under another name:
-- plain non-unique btree on exactly those columns in order, no expression, predicate, INCLUDE,
-- DESC/NULLS option, non-default operator class or collation, and not attached under a parent
-- index. Valid ones first.
SELECT i.relname AS name, ix.indisvalid AS valid
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
WHERE ix.indrelid = to_regclass(quote_ident(%(table)s))
  AND i.relname <> %(index)s
  AND am.amname = 'btree' AND NOT ix.indisunique
  AND ix.indexprs IS NULL AND ix.indpred IS NULL AND ix.indnkeyatts = ix.indnatts
  AND NOT EXISTS (SELECT 1 FROM unnest(ix.indoption::int2[]) AS o(flags) WHERE o.flags <> 0)
  AND NOT EXISTS (SELECT 1 FROM pg_opclass oc WHERE oc.oid = ANY (ix.indclass) AND NOT oc.opcdefault)
  AND NOT EXISTS (SELECT 1 FROM unnest(ix.indcollation) WITH ORDINALITY c(coll, ord)
                  JOIN unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord) ON k.ord = c.ord
                  JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                  WHERE c.coll <> 0 AND c.coll <> a.attcollation)
  AND ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
            ORDER BY k.ord) = %(columns)s::text[]
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = ix.indexrelid)
ORDER BY ix.indisvalid DESC, i.relname
