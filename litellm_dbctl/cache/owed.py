"""Invalidations owed to the proxies: recorded before the commit, finished after it.

A change committed to the database reaches live proxies only when their Redis copies go (invalidate.py).
A run killed between its COMMIT and those deletes would leave stale counters no re-run removes, since
the database no longer shows anything to redo. So the entity references are written to dbctl's own
table `dbctl_pending_invalidations` in the same transaction as the change, deleted once Redis has
them, and whatever a dead run (or a Redis failure) left there is finished by the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg.errors

from litellm_dbctl.cache import invalidate as cache
from litellm_dbctl.common import jsontext
from litellm_dbctl.db import sqlfiles


@dataclass(frozen=True)
class Owed:
    """Invalidations still owed: the rows recording them, and the references (counters too, or only
    cached objects), each listed once."""

    ids: tuple[int, ...]
    spent: tuple[cache.EntityRef, ...]  # spend changed: counters and cached objects go
    limited: tuple[cache.EntityRef, ...]  # only limits changed: cached objects go

    def __bool__(self) -> bool:
        return bool(self.ids)

    @property
    def refs(self) -> tuple[cache.EntityRef, ...]:
        return (*self.spent, *self.limited)


def prepare(conn: psycopg.Connection) -> None:
    """Create the table if it is missing (dbctl's, not a LiteLLM migration). Call it outside the
    transaction that records. Runs of different lock families (a key command and a budget sync) may
    create it at the same moment: the loser's CREATE ... IF NOT EXISTS fails on the catalog's unique
    index once the winner commits, and that failure means the table is there."""
    try:
        with conn.transaction():  # a savepoint, so the caller's transaction survives the race
            sqlfiles.run(conn, "cache/create_owed")
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        pass


def record(conn: psycopg.Connection, command: str, spent: Sequence[cache.EntityRef],
           limited: Sequence[cache.EntityRef]) -> tuple[int, ...]:
    """Write what the caller's transaction will owe, inside it; the ids of the rows written."""
    return tuple(sqlfiles.run(conn, "cache/record_owed", {"command": command, "counters": counters,
                                                          "refs": jsontext.dumps([_row(ref) for ref in refs])})
                 for refs, counters in ((spent, True), (limited, False)) if refs)


def owed(conn: psycopg.Connection, *, counters: bool = True) -> Owed:
    """Everything still owed (the table must exist: `prepare`). `counters=False` leaves out what
    deletes spend counters: only budget sync, under LiteLLM's reset lease, may delete those."""
    ids: list[int] = []
    spent: dict[cache.EntityRef, None] = {}
    limited: dict[cache.EntityRef, None] = {}
    for row in sqlfiles.run(conn, "cache/owed"):
        if row["counters"] and not counters:
            continue
        ids.append(row["id"])
        (spent if row["counters"] else limited).update(dict.fromkeys(_ref(item) for item in row["refs"]))
    return Owed(tuple(ids), tuple(spent), tuple(ref for ref in limited if ref not in spent))


def finish(conn: psycopg.Connection, redis_url: str, owed_now: Owed, *,
           namespace: str | None = None) -> cache.Invalidation:
    """Give Redis the owed invalidations (one SCAN), then delete their rows. A RedisError leaves the
    rows for the next run."""
    done = invalidate(redis_url, owed_now.spent, owed_now.limited, namespace=namespace)
    sqlfiles.run(conn, "cache/owed_done", {"ids": list(owed_now.ids)})
    return done


def finish_earlier(conn: psycopg.Connection, redis_url: str, *, counters: bool,
                   namespace: str | None = None) -> cache.Invalidation | None:
    """Finish, in a transaction of its own, what earlier runs recorded and did not do (killed after
    their commit, or Redis failed), creating the table first when missing: the one way every run that
    records also settles leftovers before it changes anything. `counters=False` for runs other than
    budget sync (see `owed`). None if nothing was owed; a RedisError ends the run, nothing changed."""
    with conn.transaction():
        prepare(conn)
        earlier = owed(conn, counters=counters)
        if not earlier:
            return None
        try:
            return finish(conn, redis_url, earlier, namespace=namespace)
        except cache.RedisError as exc:
            raise cache.RedisError(f"finishing the invalidations earlier runs owe the proxies: {exc.message}",
                                   hint="nothing was changed; they stay recorded for the next run") from None


def done(conn: psycopg.Connection, ids: Sequence[int]) -> bool:
    """After the commit, once Redis has what rows `ids` recorded: delete them. A database error only
    leaves them (False): the next run repeats those invalidations, which is harmless."""
    import psycopg  # loaded already by the connection

    if not ids:
        return True
    try:
        with conn.transaction():
            sqlfiles.run(conn, "cache/owed_done", {"ids": list(ids)})
    except psycopg.Error:
        return False
    return True


def invalidate(redis_url: str, spent: Sequence[cache.EntityRef], limited: Sequence[cache.EntityRef], *,
               namespace: str | None = None) -> cache.Invalidation:
    """Counters and cached objects of `spent`, cached objects only of `limited`, summed."""
    both = [cache.invalidate(redis_url, refs, namespace=namespace, counters=counters)
            for refs, counters in ((spent, True), (limited, False)) if refs]
    return cache.Invalidation(sum(i.deleted for i in both), sum(i.published for i in both),
                              sum(i.receivers for i in both))


def _row(ref: cache.EntityRef) -> list[Any]:
    return [ref.kind, ref.id, ref.team_id, list(ref.aliases)]


def _ref(item: list[Any]) -> cache.EntityRef:
    kind, id_, team_id, aliases = item
    return cache.EntityRef(str(kind), str(id_), team_id, tuple(aliases))
