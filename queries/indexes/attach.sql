-- requires: none
-- mode: write
-- returns: none
-- identifiers: parent, child
-- Attach a partition's index under the partitioned table's index (valid once all are attached).
ALTER INDEX {parent} ATTACH PARTITION {child}
