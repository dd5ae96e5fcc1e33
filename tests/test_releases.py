"""Which LiteLLM a database belongs to (common/releases.py, db/release.py): the release table kept honest
against the packaged migrations, detection through `db status`, the override, and a database newer
than any release dbctl knows (a warning on every command, a failed doctor check, exit 4 from the
commands that apply a release's rules, --allow-newer-schema)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import ROOT, CliResult, Database, invoke

from litellm_dbctl.common import releases
from litellm_dbctl.common.release_migrations import PACKAGED_0_4_110
from litellm_dbctl.migrate import packaged

FUTURE = "20991231000000_future"
RELEASE_1_110 = sorted(name for name, line in releases.MIGRATIONS.items() if line == "1.110")


# -- the table ----------------------------------------------------------------------------------


def test_every_packaged_migration_is_in_a_known_release() -> None:
    label, names = packaged.names()
    assert names, label
    assert [n for n in names if n not in releases.MIGRATIONS] == []
    assert releases.MIGRATIONS[max(names)] == "1.109"  # the newest packaged one is 1.109's
    if label.endswith(" 0.4.110"):
        assert list(PACKAGED_0_4_110) == names


def test_the_hand_written_1_110_migrations_are_in_the_table() -> None:
    """tests/data's directories of the migrations after 0.4.110 (written from the wheels' schema.prisma)
    name only migrations the table knows: a new one there needs its line here."""
    for directory in sorted((ROOT / "tests" / "data").glob("migrations-1.110*")):
        names = [p.name for p in directory.iterdir() if p.is_dir()]
        assert names and [n for n in names if n not in releases.MIGRATIONS] == []


def test_lines_and_newest() -> None:
    assert releases.NEWEST == "1.110" and releases.LINES == ("1.109", "1.110")
    assert max(releases.MIGRATIONS) == releases.NEWEST_KNOWN_MIGRATION
    assert releases.MIGRATIONS[releases.NEWEST_KNOWN_MIGRATION] == "1.110"
    assert set(releases.MIGRATIONS.values()) == set(releases.LINES)


@pytest.mark.parametrize(("text", "line"), [
    ("1.110", "1.110"), ("1.110.2", "1.110"), ("v1.109.1", "1.109"), (" 1.109 ", "1.109"),
    ("1.108", None), ("2", None), ("1.x", None), ("", None), ("latest", None),
])
def test_line_of(text: str, line: str | None) -> None:
    assert releases.line_of(text) == line


def test_detect() -> None:
    packaged_names = list(PACKAGED_0_4_110)
    assert releases.detect(packaged_names) == releases.Release("1.109", True, "ledger", max(packaged_names))
    assert releases.detect(packaged_names[:10]).line == "1.109"
    on_1110 = releases.detect([*packaged_names, *RELEASE_1_110])
    assert (on_1110.line, on_1110.known, on_1110.source, on_1110.outbox) == ("1.110", True, "ledger", True)
    # `prisma db push` writes no ledger row: the outbox table tells 1.110
    pushed = releases.detect(packaged_names, ["LiteLLM_SpendLogDelivery"])
    assert (pushed.line, pushed.source) == ("1.110", "tables")
    assert releases.detect([], []) == releases.Release("1.109", True, "default", None)
    # a hand-made migration older than the newest known does not make the schema newer
    assert releases.detect([*packaged_names, "20200101000000_local_index"]).known
    future = releases.detect([*packaged_names, FUTURE])
    assert (future.line, future.known, future.newer) == ("1.110", False, (FUTURE,))
    named = releases.overridden(future, "1.109.1", "--litellm-version")
    assert (named.line, named.known, named.source, named.newer) == ("1.109", True, "--litellm-version", (FUTURE,))


# -- through the CLI ----------------------------------------------------------------------------


def _add_to_ledger(db: Database, *names: str) -> None:
    for name in names:
        db.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, "
                   "applied_steps_count) VALUES (%s, '0', %s, now(), now(), 1)", (str(uuid.uuid4()), name))


def _litellm(result: CliResult) -> dict[str, object]:
    assert result.code == 0, result.stderr
    litellm: dict[str, object] = result.json()["litellm"]
    return litellm


def _warnings(result: CliResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("dbctl: warning: the database's newest")]


def test_status_on_the_packaged_migrations_is_1_109(cli: Callable[..., CliResult]) -> None:
    litellm = _litellm(cli("db", "status", "--json"))
    assert (litellm["line"], litellm["known"], litellm["source"], litellm["outbox"]) == ("1.109", True, "ledger", False)
    assert litellm["newest_migration"] == max(PACKAGED_0_4_110)
    table = cli("db", "status")
    assert f"LiteLLM       1.109 (from the ledger, newest {max(PACKAGED_0_4_110)})" in table.stdout
    assert not _warnings(table)


def test_status_on_a_1_110_ledger(db: Database, cli: Callable[..., CliResult]) -> None:
    _add_to_ledger(db, *RELEASE_1_110)
    litellm = _litellm(cli("db", "status", "--json"))
    assert (litellm["line"], litellm["known"], litellm["source"], litellm["outbox"]) == ("1.110", True, "ledger", True)
    assert litellm["newest_migration"] == releases.NEWEST_KNOWN_MIGRATION
    doctor = cli("db", "doctor", "--json").json()["checks"]
    assert next(c for c in doctor if c["name"] == "LiteLLM release")["ok"] is True


def test_status_from_the_outbox_table(db: Database, cli: Callable[..., CliResult]) -> None:
    db.execute('CREATE TABLE "LiteLLM_SpendLogDelivery" (delivery_id text PRIMARY KEY)')
    litellm = _litellm(cli("db", "status", "--json"))
    assert (litellm["line"], litellm["source"]) == ("1.110", "tables")


def test_the_override(cli: Callable[..., CliResult]) -> None:
    by_flag = _litellm(cli("db", "status", "--json", "--litellm-version", "1.110"))
    assert (by_flag["line"], by_flag["source"]) == ("1.110", "--litellm-version")
    by_variable = _litellm(cli("db", "status", "--json", env={"DBCTL_LITELLM_VERSION": "1.110.2"}))
    assert (by_variable["line"], by_variable["source"]) == ("1.110", "DBCTL_LITELLM_VERSION")
    both = _litellm(cli("--litellm-version=1.109", "db", "status", "--json", env={"DBCTL_LITELLM_VERSION": "1.110"}))
    assert (both["line"], both["source"]) == ("1.109", "--litellm-version")  # the flag wins
    assert "LiteLLM       1.110 (set by --litellm-version)" in cli("db", "status", "--litellm-version", "1.110").stdout


@pytest.mark.parametrize(("args", "env", "named"), [
    (["--litellm-version", "1.108"], None, "--litellm-version 1.108"),
    (["--litellm-version=latest"], None, "--litellm-version latest"),
    ([], {"DBCTL_LITELLM_VERSION": "2.0"}, "DBCTL_LITELLM_VERSION 2.0"),
])
def test_an_unknown_version_is_exit_2(cli: Callable[..., CliResult], args: list[str], env: dict[str, str] | None,
                                      named: str) -> None:
    result = cli(*args, "db", "status", env=env)
    assert result.code == 2
    assert result.stderr.splitlines()[0] == (f"dbctl: error: {named}: not a LiteLLM release dbctl knows "
                                             "(known: 1.109, 1.110)")
    assert result.stdout == ""


@pytest.mark.slow
def test_a_newer_database(db: Database, cli: Callable[..., CliResult]) -> None:
    _add_to_ledger(db, FUTURE)
    status = cli("db", "status", "--json")
    litellm = _litellm(status)
    assert (litellm["line"], litellm["known"], litellm["newer_than_known"]) == ("1.110", False, [FUTURE])
    # one warning line naming both, on every command (read, write, migrate, quiet)
    for args in (["db", "status"], ["user", "list"], ["key", "list", "--json"], ["migrate", "status"],
                 ["queries", "check"], ["budget", "sync", "--no-resets"], ["-q", "user", "list"]):
        result = cli(*args)
        warnings = _warnings(result)
        assert len(warnings) == 1, (args, result.stderr)
        assert FUTURE in warnings[0] and "LiteLLM 1.110" in warnings[0] and releases.NEWEST_KNOWN_MIGRATION in warnings[0]
    # migrate status: still exit 0, "only in database", and a note
    status_run = cli("migrate", "status")
    assert status_run.code == 0 and "only in database" in status_run.stdout
    assert f"newer than LiteLLM 1.110, the newest release dbctl knows ({FUTURE})" in status_run.stderr
    # doctor: a failed check
    doctor = cli("db", "doctor", "--json")
    assert doctor.code == 3
    check = next(c for c in doctor.json()["checks"] if c["name"] == "LiteLLM release")
    assert check["ok"] is False and FUTURE in check["result"]


@pytest.mark.parametrize("args", [
    ["budget", "sync"],
    ["budget", "sync", "--no-resets", "--repair-spend"],
    ["daily", "reconcile", "--since", "7d"],
    ["daily", "check", "--since", "7d"],
])
def test_rules_commands_refuse_a_newer_database(db: Database, cli: Callable[..., CliResult], args: list[str]) -> None:
    _add_to_ledger(db, FUTURE)
    refused = cli(*args)
    assert refused.code == 4, refused.stderr
    assert f"refusing to apply LiteLLM 1.110 rules to a database migrated past them (its newest migration {FUTURE}" \
        in refused.stderr
    assert "--allow-newer-schema" in refused.stderr
    assert cli("--allow-newer-schema", *args).code == 0
    assert cli(*args, "--allow-newer-schema").code == 0  # a global option: anywhere on the line
    assert cli("--litellm-version", "1.110", *args).code == 0
    doctor = cli("db", "doctor", "--json", "--litellm-version", "1.110")
    assert next(c for c in doctor.json()["checks"] if c["name"] == "LiteLLM release")["ok"] is True


def test_rules_commands_run_on_known_releases(db: Database, cli: Callable[..., CliResult]) -> None:
    for args in (["budget", "sync"], ["daily", "check", "--since", "7d"]):
        assert cli(*args).code == 0
    _add_to_ledger(db, *RELEASE_1_110)
    for args in (["budget", "sync"], ["daily", "check", "--since", "7d"]):
        result = cli(*args)
        assert result.code == 0 and not _warnings(result)



def test_detection_on_the_1_110_migration_set(outbox_db: Database) -> None:
    """The migrations of tests/data/migrations-1.110-extra applied by `migrate deploy --migrations-dir`."""
    result = invoke(["--database-url", outbox_db.url, "db", "status", "--json"])
    litellm = _litellm(result)
    assert (litellm["line"], litellm["known"], litellm["source"], litellm["outbox"]) == ("1.110", True, "ledger", True)
    assert litellm["newest_migration"] == "20261103000000_add_spend_log_delivery" and not _warnings(result)
    check = invoke(["--database-url", outbox_db.url, "daily", "check", "--since", "7d"])
    assert check.code == 0 and not _warnings(check)


def test_detection_at_1_109_1(empty_db: Database, migrations_1110: Path) -> None:
    """Up to 1.109.1's pin (0.4.113): past the packaged migrations, still 1.109."""
    deployed = invoke(["--database-url", empty_db.url, "migrate", "deploy", "-q", "--migrations-dir",
                       str(migrations_1110), "--to", "20261022000000_add_accounting_ledger"])
    assert deployed.code == 0, deployed.stderr
    litellm = _litellm(invoke(["--database-url", empty_db.url, "db", "status", "--json"]))
    assert (litellm["line"], litellm["known"], litellm["outbox"]) == ("1.109", True, False)
    assert litellm["newest_migration"] == "20261022000000_add_accounting_ledger"


def test_a_real_1_110_database_is_not_refused_for_names_dbctl_cannot_know(outbox_db: Database) -> None:
    """1.110's real migration names are not on the package index (dbctl's are tests/data's): beside
    1.110's outbox table, a ledger name dbctl cannot name is presumed 1.110's, so cron keeps running."""
    outbox_db.execute("""INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at,
                         applied_steps_count) VALUES ('r', 'r', now(), '20261125000000_a_real_1110_name', now(), 1)""")
    result = invoke(["--database-url", outbox_db.url, "db", "status", "--json"])
    litellm = _litellm(result)
    assert (litellm["line"], litellm["known"]) == ("1.110", True) and not _warnings(result)
    synced = invoke(["--database-url", outbox_db.url, "budget", "sync", "--dry-run"])
    assert synced.code in (0, 3) and not _warnings(synced), synced
