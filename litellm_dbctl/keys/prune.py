"""`key prune`: delete expired or unused keys in batches, each kept as LiteLLM's /key/delete keeps one.

LiteLLM never deletes an expired key (BerriAI/litellm#19477: 380k of them). A batch is one
transaction: its keys are locked in token order (as the proxies' spend flush locks them), copied to
LiteLLM_DeletedVerificationToken (`archive`), deleted, audited `deleted`, and with a Redis URL the
proxies' cached copies owed (recorded in the batch, dropped after its commit). A run killed between
batches leaves whole batches done and the rest untouched, so running it again finishes the job. The
run holds the advisory lock of family `key` (one prune at a time).

"Unused since" reads `last_active`, which the proxies' spend flush stamps on every key it charges; a
key never charged counts from its `created_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from litellm_dbctl.audit import trail
from litellm_dbctl.cache.invalidate import EntityRef
from litellm_dbctl.common import pausepoints
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import database, sqlfiles
from litellm_dbctl.keys.archive import archive
from litellm_dbctl.provision.apply import Invalidated, finish_earlier, owe, tell
from litellm_dbctl.provision.plan import Options

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

FAMILY = "key"  # the advisory lock a prune holds
BATCH = 1000  # keys per transaction by default
COMMAND = "key prune"


@dataclass(frozen=True)
class Pruned:
    keys: tuple[dict[str, Any], ...]  # token, key_alias, key_name, user_id, team_id, expires, last_active, created_at
    batches: int
    dry_run: bool
    invalidated: tuple[Invalidated, ...] = ()  # what each batch's Redis step did (failures: `error`)


def prune(target: Target, *, expired_before: datetime | None = None, unused_since: datetime | None = None,
          batch_size: int = BATCH, options: Options = Options(), dry_run: bool = False, lock_timeout: float = 30.0,
          now: datetime | None = None, progress: Callable[[int], None] | None = None) -> Pruned:
    """Delete the keys that expired before `expired_before`, or (exclusive) have not been used since
    `unused_since`, `batch_size` per transaction. A dry run reads every batch and rolls each back."""
    if (expired_before is None) == (unused_since is None):
        raise InvalidInput("give one of --expired-before and --unused-since")
    if batch_size < 1:
        raise InvalidInput("--batch-size: must be at least 1")
    stamp = utc_naive(now or datetime.now(timezone.utc))
    record = bool(options.redis_url) and not dry_run
    params = {"expired_before": utc_naive(expired_before), "unused_since": utc_naive(unused_since),
              "batch": batch_size}
    done: list[dict[str, Any]] = []
    told: list[Invalidated] = []
    batches = 0

    def once(conn: psycopg.Connection, after: str) -> tuple[list[dict[str, Any]], tuple[int, ...]]:
        with conn.transaction(force_rollback=dry_run):
            rows: list[dict[str, Any]] = sqlfiles.run(conn, "key/prune_batch", {**params, "after": after}, lock=True)
            if not rows:
                return rows, ()
            tokens = [r["token"] for r in rows]
            archive(conn, tokens, actor=options.actor, now=stamp)
            sqlfiles.run(conn, "key/delete_many", {"tokens": tokens})
            if options.audit:
                trail.write(conn, [trail.row("deleted", "LiteLLM_VerificationToken", r["token"],
                                             {k: r[k] for k in ("key_alias", "key_name", "user_id", "team_id")},
                                             None) for r in rows], actor=options.actor, now=stamp)
            ids = owe(conn, COMMAND, [EntityRef("key", t) for t in tokens], options) if record else ()
        return rows, ids

    # autocommit: the session lock's query opens no transaction, so each batch's is its own and commits
    with database.connect(target, command=COMMAND, autocommit=True,
                          lock_timeout=database.attempt_lock_timeout(lock_timeout)) as conn, \
            database.LockWait(target, timeout=lock_timeout, what=COMMAND, command=COMMAND) as wait, \
            database.advisory_lock(conn, database.family_key(FAMILY), timeout=lock_timeout, what=COMMAND):
        wait.attach(conn)
        if record:
            finish_earlier(conn, options)
        after = ""
        while True:
            rows, ids = database.retry(partial(once, conn, after), what=COMMAND, wait=wait)
            if not rows:
                break
            batches += 1
            done.extend(rows)
            pausepoints.pause("KEY_PRUNE_BATCH")
            if record:
                invalidated = tell([EntityRef("key", r["token"]) for r in rows], ids, options, conn)
                if invalidated is not None:
                    told.append(invalidated)
            if progress is not None:
                progress(len(done))
            after = rows[-1]["token"]
    return Pruned(tuple(done), batches, dry_run, tuple(told))
