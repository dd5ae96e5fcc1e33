-- requires: none
-- mode: write
-- returns: none
-- The keys of spend logs updated or deleted while a conversion copies: the mirror trigger writes them,
-- the reconcile steps copy those rows again from the plain table.
CREATE TABLE IF NOT EXISTS dbctl_logs_partition_dirty (
    id bigserial PRIMARY KEY,
    request_id text NOT NULL,
    "startTime" timestamp(3) NOT NULL
)
