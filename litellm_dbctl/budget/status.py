"""`budget status`: spend against max and soft budget per entity, most used first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litellm_dbctl.budget import tiers
from litellm_dbctl.common import clock
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import lookup

if TYPE_CHECKING:
    import psycopg

STATUS_ENTITIES = ("key", "user", "team", "org", "end_user", "tag", "team_member")


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One entity's spend against its budget. `flag`: over (spend >= max_budget: LiteLLM rejects its
    requests), soft (spend >= soft_budget), near (>= the near share of max_budget), or ok."""

    entity: str
    id: str
    name: str | None
    team_id: str | None
    org_id: str | None
    spend: float
    max_budget: float | None
    soft_budget: float | None
    used_pct: float | None  # of max_budget; None without one (or when it is 0)
    budget_duration: str | None
    next_reset: datetime | None
    reset_overdue: bool  # budget_reset_at has passed and no reset has moved it yet
    flag: str


def status(
    conn: psycopg.Connection,
    *,
    entities: Iterable[str] = STATUS_ENTITIES,
    team: str | None = None,
    org: str | None = None,
    near_pct: float = 80.0,
    only: str = "all",
    everything: bool = False,
    limit: int | None = None,
    default_end_user_budget: str | None = None,
    now: datetime | None = None,
) -> list[BudgetStatus]:
    """Spend against max and soft budget per entity, most used first (see budget/status). `team` and
    `org` are references (id or alias), resolved as every command resolves them: exit 2 for one that
    names nothing, or several."""
    kinds = list(dict.fromkeys(entities))
    unknown = [k for k in kinds if k not in STATUS_ENTITIES]
    if unknown:
        raise InvalidInput(f"unknown entity type {unknown[0]!r} (expected {', '.join(STATUS_ENTITIES)})")
    if only not in ("all", "flagged", "over"):
        raise InvalidInput(f"only must be all, flagged or over, not {only!r}")
    tiers.require(conn, default_end_user_budget)
    moment = clock.utc_aware(now) if now else clock.now()
    rows = sqlfiles.run(conn, "budget/status", {
        "entities": kinds, "team": lookup.group_id(conn, "team", team),
        "org": lookup.group_id(conn, "org", org), "everything": everything, "only": only,
        "near": near_pct / 100, "limit": limit, "now": clock.utc_naive(moment),
        "default_end_user_budget": default_end_user_budget,
    })
    return [_status(row, near_pct, moment) for row in rows]


def _status(row: Mapping[str, Any], near_pct: float, now: datetime) -> BudgetStatus:
    spend, max_budget, soft_budget = row["spend"], row["max_budget"], row["soft_budget"]
    used = spend / max_budget * 100 if max_budget else None
    if max_budget is not None and spend >= max_budget:
        flag = "over"
    elif soft_budget is not None and spend >= soft_budget:
        flag = "soft"
    elif used is not None and used >= near_pct:
        flag = "near"
    else:
        flag = "ok"
    next_reset = clock.utc_aware(row["next_reset"]) if row["next_reset"] else None
    return BudgetStatus(row["entity"], row["id"], row["name"], row["team_id"], row["org_id"], spend, max_budget,
                        soft_budget, None if used is None else round(used, 2), row["budget_duration"], next_reset,
                        next_reset is not None and next_reset <= now, flag)
