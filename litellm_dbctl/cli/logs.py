"""`dbctl logs`: keep LiteLLM_SpendLogs from outgrowing the database: size, archive, prune, scrub,
partition.

The library (`litellm_dbctl.logs`) is imported inside the command bodies.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="The spend-log table's lifecycle: size, archive, prune, scrub, partition.",
                  no_args_is_help=True)
