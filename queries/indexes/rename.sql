-- requires: none
-- mode: write
-- returns: none
-- identifiers: old, new
-- Adopt an equivalent index under the name LiteLLM expects (a catalog change; writes go on).
ALTER INDEX {old} RENAME TO {new}
