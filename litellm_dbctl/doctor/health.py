"""`db status` and `db doctor`: where dbctl is connected and whether the database is fit to upgrade."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litellm_dbctl.common import releases
from litellm_dbctl.common.errors import DbctlError
from litellm_dbctl.db import database, release, sqlfiles
from litellm_dbctl.db.config import Target, embedded_schema_hint
from litellm_dbctl.migrate import packaged

MIN_SERVER_VERSION = 130000  # LiteLLM's migrations use features of PostgreSQL 13+


@dataclass(frozen=True)
class DatabaseStatus:
    connected_to: str
    source: str
    server_version: str
    database: str
    schema: str
    user: str
    tls: bool
    replica: bool
    ledger: dict[str, Any]
    litellm: dict[str, Any]  # the release line whose rules dbctl applies (release_summary)


def status(target: Target, command: str = "db status") -> DatabaseStatus:
    with database.connect(target, command=command, read_only=True) as conn:
        server = sqlfiles.run(conn, "db/server_info")
        ledger = ledger_summary(conn)
        litellm = release_summary(release.release_of(conn, target))
    return DatabaseStatus(
        target.redacted, target.source, server["version"].split(" on ")[0], server["database"],
        server["schema"], server["user"], server["tls"], server["replica"], ledger, litellm,
    )


def release_summary(found: releases.Release) -> dict[str, Any]:
    """The release for `db status`: its line, whether dbctl knows it, how it was chosen."""
    return {"line": found.line, "known": found.known, "source": found.source,
            "newest_migration": found.newest_migration, "newer_than_known": list(found.newer),
            "newest_known_release": releases.NEWEST, "newest_known_migration": releases.NEWEST_KNOWN_MIGRATION,
            "outbox": found.outbox, "text": found.describe()}


def ledger_summary(conn: Any) -> dict[str, Any]:
    """Applied, failed, newest applied, and pending against the installed litellm-proxy-extras."""
    state = sqlfiles.ledger_state(conn)
    if not state.exists:
        return {"exists": False, "applied": 0, "failed": 0, "newest_applied": None, "pending": None, "source": None}
    applied = sorted(state.applied)
    failed = sorted(state.failed)
    pending: int | None
    source_label: str | None
    try:
        source_label, names = packaged.names()
        pending = len([name for name in names if name not in state.applied])
    except DbctlError:
        pending, source_label = None, None
    return {"exists": True, "applied": len(applied), "failed": len(failed), "failed_names": failed,
            "newest_applied": applied[-1] if applied else None, "pending": pending, "source": source_label}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    result: str
    hint: str = ""
    data: Any = field(default=None, compare=False)


def doctor(target: Target, *, old_transaction_seconds: float = 300.0, tables: int = 10) -> list[Check]:
    """The checks an operator runs before an upgrade; each with a result and a hint."""
    checks: list[Check] = []
    try:
        conn = database.connect(target, command="db doctor", read_only=True)
    except DbctlError as exc:
        return [Check("reachable", False, exc.message, "check the URL, the network and the server")]
    with conn:
        checks.append(Check("reachable", True, database.describe(target)))
        server = sqlfiles.run(conn, "db/server_info")
        version_ok = server["version_num"] >= MIN_SERVER_VERSION
        checks.append(Check("server version", version_ok, server["version"].split(" on ")[0],
                            "" if version_ok else "LiteLLM needs PostgreSQL 13 or newer"))
        ledger = ledger_summary(conn)
        if not ledger["exists"]:
            checks.append(Check("migrations", False, "no _prisma_migrations ledger",
                                embedded_schema_hint(target.source) if target.embedded_dir is not None else
                                "run `dbctl migrate deploy` (empty database) or `dbctl migrate baseline`"))
        elif ledger["failed"]:
            checks.append(Check("migrations", False, f"failed: {', '.join(ledger['failed_names'])}",
                                "see `dbctl migrate status` and `dbctl migrate resolve`"))
        else:
            pending = ledger["pending"]
            checks.append(Check("migrations", True, f"{ledger['applied']} applied, no failed row"
                                + (f", {pending} pending" if pending else "")))
        checks.append(release_check(release.release_of(conn, target)))
        has_spend_logs = "20250326162113_baseline" in sqlfiles.ledger_state(conn).applied
        if has_spend_logs:
            indexes = sqlfiles.run(conn, "db/spend_log_indexes")
            checks.extend(request_log_index_checks(indexes))
        invalid = sqlfiles.run(conn, "db/invalid_indexes")
        checks.append(Check(
            "invalid indexes", not invalid,
            "none" if not invalid else ", ".join(f"{r['index']} on {r['table']}" for r in invalid),
            "" if not invalid else "REINDEX INDEX CONCURRENTLY each, or `dbctl migrate indexes`",
        ))
        largest = sqlfiles.run(conn, "db/largest_tables", {"limit": tables})
        bloated = [t for t in largest if t["dead_ratio"] > 0.2 and t["dead_tuples"] > 10_000]
        checks.append(Check(
            "table sizes", not bloated,
            ", ".join(f"{t['table']} ~{t['estimated_rows']:,} rows {_size(t['bytes'])}" for t in largest[:5]) or "no tables",
            "" if not bloated else "VACUUM " + ", ".join(t["table"] for t in bloated) + " (dead tuples > 20%)",
            data=largest,
        ))
        old = sqlfiles.run(conn, "db/old_transactions", {"seconds": old_transaction_seconds})
        checks.append(Check(
            "long transactions", not old,
            "none" if not old else "; ".join(
                f"pid {o['pid']} ({o['application_name'] or '?'}) {o['seconds']:.0f}s on {o['tables']}" for o in old),
            "" if not old else "they block migrations and resets: end them or wait",
            data=old,
        ))
    return checks


def release_check(found: releases.Release) -> Check:
    """Fails on a database migrated past the newest LiteLLM release dbctl knows: its rules (resets,
    spend accounting) may be older than the schema. A release named by the operator passes, said so."""
    if not found.known:
        return Check("LiteLLM release", False, found.describe(),
                     f"upgrade dbctl; budget sync resets/--repair-spend and daily check/reconcile refuse (exit 4) "
                     f"unless {release.ALLOW_NEWER} or --litellm-version")
    if found.newer:
        return Check("LiteLLM release", True, f"{found.line} (set by {found.source}; the database has migrations "
                                               f"newer than dbctl knows, up to {found.newer[-1]})")
    return Check("LiteLLM release", True, found.describe())


def request_log_index_checks(indexes: list[dict[str, Any]]) -> list[Check]:
    """The request-log indexes LiteLLM builds outside its migrations (litellm-database.md §5.4),
    present by name or as an equivalent column list. (`indexes` is imported here, not at the top:
    `db status` does not need it.)"""
    from litellm_dbctl.migrate.indexes import REQUEST_LOG_INDEXES

    checks = []
    for name, columns in ((i.name, i.columns) for i in REQUEST_LOG_INDEXES):
        found = [i for i in indexes if i["name"] == name or tuple(i["columns"]) == columns]
        valid = [i for i in found if i["valid"]]
        if valid:
            checks.append(Check(f"index {name}", True, f"present ({valid[0]['name']})"))
        elif found:
            checks.append(Check(f"index {name}", False, f"INVALID ({found[0]['name']})",
                                "rebuild it with `dbctl migrate indexes`"))
        else:
            checks.append(Check(f"index {name}", False, "missing",
                                "build it with `dbctl migrate indexes` (CONCURRENTLY)"))
    return checks


def _size(num: int) -> str:
    size = float(num)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(num)
