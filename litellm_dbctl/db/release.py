"""The LiteLLM release of a connected database, and the refusal of commands whose result depends on
a release's rules when the database is newer than any release dbctl knows.

Detection reads nothing of its own: it takes the ledger and marker tables that the query registry
reads once per connection for `requires:` checks (sqlfiles.ledger_state). The table and the rules of
detection are in common/releases.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litellm_dbctl.common import releases
from litellm_dbctl.common.errors import IntegrityError
from litellm_dbctl.db import sqlfiles

if TYPE_CHECKING:
    import psycopg

    from litellm_dbctl.db.config import Target

ALLOW_NEWER = "--allow-newer-schema"


def release_of(conn: psycopg.Connection, target: Target | None = None) -> releases.Release:
    """The release line whose rules apply to the database on `conn`: detected from its ledger and
    tables, or the one the operator named (`target.litellm_version`)."""
    state = sqlfiles.ledger_state(conn)
    found = releases.detect(state.applied, state.tables)
    if target is not None and target.litellm_version is not None:
        return releases.overridden(found, target.litellm_version, target.litellm_version_source or "--litellm-version")
    return found


def require_known(conn: psycopg.Connection, target: Target | None, command: str) -> releases.Release:
    """The release, for a command whose result depends on a release's rules (resets, spend repair,
    the daily tables): exit 4 on a database newer than dbctl knows, unless the operator allowed it
    (--allow-newer-schema) or named the release (--litellm-version)."""
    release = release_of(conn, target)
    if not release.known and not (target is not None and target.allow_newer_schema):
        raise IntegrityError(
            f"{command}: refusing to apply LiteLLM {release.line} rules to a database migrated past them "
            f"(its newest migration {release.newer[-1]}; dbctl knows up to {releases.NEWEST_KNOWN_MIGRATION})",
            hint=f"upgrade dbctl, or pass {ALLOW_NEWER} (or --litellm-version {releases.NEWEST}) to apply them anyway",
        )
    return release
