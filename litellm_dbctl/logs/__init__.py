"""`dbctl logs`: the lifecycle of `LiteLLM_SpendLogs`: its size, archives, pruning, scrubbing and the
switch to LiteLLM's partitioned layout. Each command is a module here; the CLI is `cli/logs.py`."""
