"""Budget tiers named on the command line: a tier that must exist is checked to exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litellm_dbctl.common import checks
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg


def require(conn: psycopg.Connection, budget_id: str | None, *, option: str = "--end-user-budget") -> None:
    """InvalidInput naming `option` unless `budget_id` (when given) is a LiteLLM_BudgetTable row: a
    misspelt default tier would otherwise leave every end user without one, silently."""
    name = checks.flag(option, budget_id, checks.name)
    if name is not None and not sqlfiles.run(conn, "budget/tier_exists", {"budget_id": name}):
        raise InvalidInput(f"{option}: no budget tier {name!r} (LiteLLM_BudgetTable)")
