"""What a budget sync reports, shared by its steps: resets, limits, windows, repair and the run.

Each step module imports these; none imports another step or the orchestrator (budget/sync.py),
so the package has no import cycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from litellm_dbctl.common import clock

EPOCH = datetime(1970, 1, 1, tzinfo=clock.UTC)


@dataclass(frozen=True, slots=True)
class Change:
    """One entity's change: what it was, what it becomes. `fields` maps a column to (old, new)."""

    entity: str  # key|user|team|budget|end_user|team_member|org|tag|project|model_access_group
    id: str
    name: str | None
    action: str  # reset|init|cascade|limits|repair
    fields: Mapping[str, tuple[Any, Any]]
    team_id: str | None = None  # team_member rows: the team (id is the user)
    via: str | None = None  # cascade, limits: the budget tier; repair: the window start


@dataclass(frozen=True, slots=True)
class Skip:
    """An entity left alone, and why."""

    entity: str
    id: str
    name: str | None
    reason: str


def carry_over(spend: float, max_budget: float | None, rollover: bool) -> float:
    """The spend a new window starts with: 0, or with rollover the overage over max_budget
    (LiteLLM's litellm_settings.budget_rollover). The reset statements apply the same rule."""
    if not rollover or max_budget is None:
        return 0.0
    return max(0.0, spend - max_budget)


@dataclass(frozen=True)
class ResetBatch:
    """Window resets applied to one table, kept as the planned rows: Change objects are built
    only when asked for (a cron run with -q never pays for 100,000 of them)."""

    entity: str
    rows: Sequence[Any]  # due rows as planned and applied: named tuples of budget/due_*
    boundaries: Mapping[str, datetime]  # duration -> its next reset (aware UTC)
    rollover: bool

    @cached_property
    def _initialized(self) -> int:
        return sum(1 for row in self.rows if row.reset_us is None)

    def counts(self) -> tuple[int, int]:
        """(windows reset, budget_reset_at set where there was none)."""
        return len(self.rows) - self._initialized, self._initialized

    def reset_rows(self) -> Iterator[Any]:
        """The rows whose spend moved (a reset, not a first budget_reset_at)."""
        return (row for row in self.rows if row.reset_us is not None)

    def changes(self) -> Iterator[Change]:
        for row in self.rows:
            following = self.boundaries[row.budget_duration]
            if row.reset_us is None:
                yield Change(self.entity, row.id, row.name, "init", {"budget_reset_at": (None, following)})
                continue
            fields: dict[str, tuple[Any, Any]] = {"budget_reset_at": (_from_us(row.reset_us), following)}
            if self.entity != "budget":
                new_spend = carry_over(row.spend, row.max_budget, self.rollover)
                fields = {"spend": (row.spend, new_spend), **fields}
            yield Change(self.entity, row.id, row.name, "reset", fields)


def _from_us(microseconds: int) -> datetime:
    """A timestamp the database sent as microseconds since the epoch, as aware UTC."""
    return EPOCH + timedelta(microseconds=microseconds)


@dataclass
class Outcome:
    """What the steps of one sync transaction did (in a dry run: would do), gathered as they run."""

    batches: list[ResetBatch] = field(default_factory=list)  # window resets of keys, users, teams, tiers
    changes: list[Change] = field(default_factory=list)  # everything else: cascades, windows, limits, repairs
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
