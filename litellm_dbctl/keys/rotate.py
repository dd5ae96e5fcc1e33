"""`key rotate`: a new raw key for the same key row, as LiteLLM's /key/regenerate makes one.

/key/regenerate (1.109.1, without its paid-tier grace period) copies the row as it is to
LiteLLM_DeletedVerificationToken (the old token, kept as a deleted key is), then rewrites the row's
`token` and `key_name` to the new key's: alias, owner, budgets, spend and limits stay. Rows keyed by
the token follow: LiteLLM_JWTKeyMapping by its ON UPDATE CASCADE, access groups' assigned_key_ids,
and for a key with neither user nor team the managed files, batches and vector stores it owns as
`key:<token>`. The audit row is LiteLLM's `rotated` on the old token (never the raw key, which
LiteLLM's own row carries). The old token is then in no active row: a proxy that has not cached it
refuses it at once, and with a Redis URL the proxies' cached copy is dropped after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from litellm_dbctl.audit import trail
from litellm_dbctl.common.clock import utc_naive
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.keys.archive import archive
from litellm_dbctl.keys.manage import KeyChange, _changed
from litellm_dbctl.provision import lookup, tokens
from litellm_dbctl.provision.keysout import KeysOut
from litellm_dbctl.provision.plan import Options

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

MANAGED_TABLES = ("LiteLLM_ManagedFileTable", "LiteLLM_ManagedObjectTable", "LiteLLM_ManagedVectorStoreTable")


@dataclass(frozen=True)
class Rotated:
    change: KeyChange  # the old token (its cached copy is what the proxies drop), action `rotated`
    key: tokens.CreatedKey | None  # the new key, raw value included: shown once; None in a dry run


def rotate(target: Target, ref: str, *, options: Options = Options(), dry_run: bool = False,
           lock_timeout: float = 30.0, now: datetime | None = None, keys_out: KeysOut | None = None) -> Rotated:
    """Give the key `ref` names a new raw key, in one transaction (see the module docstring); with
    `keys_out`, the new raw key is written there before the COMMIT."""
    stamp = utc_naive(now or datetime.now(timezone.utc))
    made: dict[str, tokens.CreatedKey] = {}

    def attempt(conn: psycopg.Connection) -> KeyChange:
        found = lookup.find_key(conn, ref)
        old = found["token"]
        row = sqlfiles.run(conn, "key/read_for_update", {"token": old}, lock=True)[0]
        new = tokens.make_key(None, row["key_alias"])
        made["key"] = new
        archive(conn, [old], actor=options.actor, now=stamp)
        sqlfiles.run(conn, "key/rotate", {"token": old, "new_token": new.token, "key_name": new.key_name,
                                          "actor": options.actor, "now": stamp})
        if sqlfiles.supported(conn, "key/repoint_access_groups"):
            sqlfiles.run(conn, "key/repoint_access_groups", {"token": old, "new_token": new.token})
        if row["user_id"] is None and row["team_id"] is None and sqlfiles.supported(conn, "key/repoint_managed"):
            for table in MANAGED_TABLES:
                sqlfiles.run(conn, "key/repoint_managed", {"owner": f"key:{old}", "new_owner": f"key:{new.token}"},
                             identifiers={"table": table})
        if options.audit:
            trail.write(conn, [trail.row("rotated", "LiteLLM_VerificationToken", old,
                                         {"token": old, "key_name": found["key_name"]},
                                         {"token": new.token, "key_name": new.key_name})],
                        actor=options.actor, now=stamp)
        return KeyChange(old, row["key_alias"], "rotated", dry_run)

    change = _changed(target, "key rotate", attempt, options=options, dry_run=dry_run, lock_timeout=lock_timeout,
                      keys_out=keys_out, made=lambda: [made["key"]])
    return Rotated(change, None if dry_run else made["key"])
