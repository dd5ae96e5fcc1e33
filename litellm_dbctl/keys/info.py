"""`key info` and `key list --expired | --unused-since`: what one key is, and which keys are retired
in all but name. Reads only; never a raw key (the database holds its SHA-256 alone)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.provision import lookup

if TYPE_CHECKING:
    import psycopg


def info(conn: psycopg.Connection, ref: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything about the key `ref` names: owner (user_id, email), team, organization, budget tier,
    budgets and their windows (budget_limits), spend, limits, expiry, last use, blocked."""
    token = lookup.find_key(conn, ref)["token"]
    row: dict[str, Any] = sqlfiles.run(conn, "key/detail", {"token": token,
                                                            "now": utc_naive(now or datetime.now(timezone.utc))})
    return row


def lifecycle_keys(conn: psycopg.Connection, *, user: str | None = None, team: str | None = None,
                   alias: str | None = None, expired: bool = False, unused_since: datetime | None = None,
                   limit: int = 1000, now: datetime | None = None) -> list[dict[str, Any]]:
    """`key list` with `--expired` (expires before now) and/or `--unused-since` (no use since then:
    last_active before it, or never used and created before it), with the list's other filters."""
    rows: list[dict[str, Any]] = sqlfiles.run(conn, "key/list_lifecycle", {
        "user_id": lookup.user_id(conn, user), "team_id": lookup.group_id(conn, "team", team), "alias": alias,
        "expired_before": utc_naive(now or datetime.now(timezone.utc)) if expired else None,
        "unused_since": utc_naive(unused_since), "limit": limit})
    return rows
