"""Every bad value a user can type is refused at the edge (issue 17 item 3), table-driven over the
flags and file formats: NaN, inf, 1e309, 2^63, NUL, non-UTF-8, 10^9 days, 1,000-deep nesting, empty
names, unknown tiers. Each row: exit 2, one stderr line naming the flag or file:line and field, no
traceback, no "internal error", and the database unchanged (every public table's rows and xmin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke

from litellm_dbctl.common import checks, spans

BIG = str(2**63)  # one past bigint
DAYS = "999999999d"  # 10^9 days: past year 9999 from any date
NON_UTF8_ARG = "a\udcffb"  # how Python hands a non-UTF-8 argv byte (0xff) to the program
DEEP_JSON = "[" * 1000 + "]" * 1000
DEEP_YAML = "[" * 1000 + "]" * 1000

SEED = """\
teams:
  - team_id: t1
    team_alias: t1
users:
  - user_id: u1
    teams: [t1]
"""


@dataclass(frozen=True)
class Row:
    args: tuple[str, ...]
    named: str  # what the one stderr line must name: the flag, or file:line and field
    files: dict[str, bytes] = field(default_factory=dict)  # written to tmp_path; {dir} in args is it
    stdin: bytes | None = None


def _spec(body: str) -> dict[str, bytes]:
    return {"spec.yaml": body.encode()}


ROWS: dict[str, Row] = {
    # -- numbers in flags ------------------------------------------------------------------
    "team --max-budget nan": Row(("team", "provision", "--alias", "x", "--max-budget", "nan"), "--max-budget"),
    "team --max-budget inf": Row(("team", "provision", "--alias", "x", "--max-budget", "inf"), "--max-budget"),
    "team --soft-budget 1e309": Row(("team", "provision", "--alias", "x", "--soft-budget", "1e309"), "--soft-budget"),
    "team --tpm-limit 2^63": Row(("team", "provision", "--alias", "x", "--tpm-limit", BIG), "--tpm-limit"),
    "team --team-member-budget nan": Row(("team", "provision", "--alias", "x", "--team-member-budget", "nan"),
                                         "--team-member-budget"),
    "org --max-budget inf": Row(("org", "provision", "--alias", "o", "--max-budget", "inf"), "--max-budget"),
    "org --rpm-limit 2^63": Row(("org", "provision", "--alias", "o", "--rpm-limit", BIG), "--rpm-limit"),
    "user --max-budget 1e309": Row(("user", "provision", "--user-id", "u2", "--max-budget", "1e309"), "--max-budget"),
    "key --max-budget nan": Row(("key", "create", "--user", "u1", "--max-budget", "nan"), "--max-budget"),
    "key --rpm-limit 2^63": Row(("key", "create", "--user", "u1", "--rpm-limit", BIG), "--rpm-limit"),
    "add-member --max-budget-in-team nan": Row(("team", "add-member", "t1", "u1", "--max-budget-in-team", "nan"),
                                               "--max-budget-in-team"),
    "budget sync --settle nan": Row(("budget", "sync", "--repair-spend", "--settle", "nan"), "--settle"),
    "budget sync --min-drift inf": Row(("budget", "sync", "--repair-spend", "--min-drift", "inf"), "--min-drift"),
    "budget status --near nan": Row(("budget", "status", "--near", "nan"), "--near"),
    # -- waits -----------------------------------------------------------------------------
    "team --lock-timeout nan": Row(("team", "provision", "--alias", "x", "--lock-timeout", "nan"), "--lock-timeout"),
    "budget sync --lock-timeout inf": Row(("budget", "sync", "--lock-timeout", "inf"), "--lock-timeout"),
    "daily reconcile --lock-timeout 1e309": Row(("daily", "reconcile", "--lock-timeout", "1e309"), "--lock-timeout"),
    "migrate deploy --lock-timeout huge": Row(("migrate", "deploy", "--lock-timeout", "1e12"), "--lock-timeout"),
    "provision apply --lock-timeout nan": Row(("provision", "apply", "{dir}/spec.yaml", "--lock-timeout", "nan"),
                                              "--lock-timeout", _spec(SEED)),
    # -- dates and durations ---------------------------------------------------------------
    "key --duration 10^9 days": Row(("key", "create", "--user", "u1", "--duration", DAYS), "--duration"),
    "key --budget-duration 10^9 days": Row(("key", "create", "--user", "u1", "--budget-duration", DAYS),
                                           "--budget-duration"),
    "team --budget-duration 10^9 days": Row(("team", "provision", "--alias", "x", "--budget-duration", DAYS),
                                            "--budget-duration"),
    "spend summary --since 10^9 days": Row(("spend", "summary", "--since", DAYS), "--since"),
    "spend logs --since 10^9 hours": Row(("spend", "logs", "--since", "999999999h"), "--since"),
    "spend summary --until 9999-12-31": Row(("spend", "summary", "--until", "9999-12-31"), "--until"),
    "daily check --since 10^9 days": Row(("daily", "check", "--since", DAYS), "--since"),
    "daily check --until 9999-12-31": Row(("daily", "check", "--since", "7d", "--until", "9999-12-31"), "--until"),
    "daily reconcile --settle 10^9 days": Row(("daily", "reconcile", "--settle", DAYS), "--settle"),
    "budget sync --now 9999-12-31": Row(("budget", "sync", "--now", "9999-12-31T23:59Z"), "--now"),
    # -- nesting ---------------------------------------------------------------------------
    "key --metadata 1000 deep": Row(("key", "create", "--user", "u1", "--metadata", DEEP_JSON), "--metadata"),
    # -- names that must exist, empty names ------------------------------------------------
    "budget sync --end-user-budget unknown": Row(("budget", "sync", "--end-user-budget", "no-such-tier"),
                                                 "--end-user-budget"),
    "budget status --end-user-budget unknown": Row(("budget", "status", "--end-user-budget", "no-such-tier"),
                                                   "--end-user-budget"),
    "budget sync --end-user-budget ''": Row(("budget", "sync", "--end-user-budget", ""), "--end-user-budget"),
    "key --alias ''": Row(("key", "create", "--user", "u1", "--alias", ""), "--alias"),
    "key --team unknown": Row(("key", "create", "--team", "no-such-team"), "no-such-team"),
    "team add-member unknown team": Row(("team", "add-member", "no-such-team", "u1"), "no-such-team"),
    # -- NUL and non-UTF-8 in flags --------------------------------------------------------
    "team --alias NUL": Row(("team", "provision", "--alias", "a\x00b"), "--alias"),
    "team --alias non-UTF-8": Row(("team", "provision", "--alias", NON_UTF8_ARG), "--alias"),
    "key --alias NUL": Row(("key", "create", "--user", "u1", "--alias", "a\x00b"), "--alias"),
    "key --alias non-UTF-8": Row(("key", "create", "--user", "u1", "--alias", NON_UTF8_ARG), "--alias"),
    "key --metadata NUL": Row(("key", "create", "--user", "u1", "--metadata", '{"a": "x\\u0000y"}'), "--metadata"),
    "spend --since NUL": Row(("spend", "summary", "--since", "7d\x00"), "--since"),
    "spend --user non-UTF-8": Row(("spend", "summary", "--since", "7d", "--user", NON_UTF8_ARG), "--user"),
    "spend top --tag NUL": Row(("spend", "top", "--by", "user", "--tag", "a\x00b"), "--tag"),
    "spend logs --request-id NUL": Row(("spend", "logs", "--request-id", "a\x00b"), "--request-id"),
    "key block KEY non-UTF-8": Row(("key", "block", NON_UTF8_ARG), "KEY"),
    # -- --key-stdin -----------------------------------------------------------------------
    "key --key-stdin non-UTF-8": Row(("key", "create", "--user", "u1", "--key-stdin"), "--key-stdin",
                                     stdin=b"sk-\xff\xfeabcdefghijklmnop\n"),
    "key --key-stdin NUL": Row(("key", "create", "--user", "u1", "--key-stdin"), "--key-stdin",
                               stdin=b"sk-abcdefgh\x00ijklmnopq\n"),
    "key --key-stdin two lines": Row(("key", "create", "--user", "u1", "--key-stdin"), "--key-stdin",
                                     stdin=b"sk-abcdefghijklmnopqrs\nsk-second-line-here\n"),
    # -- output files ----------------------------------------------------------------------
    "spend export --to missing dir": Row(("spend", "export", "--to", "/missing/dir/f.csv"), "--to"),
    # -- spec files ------------------------------------------------------------------------
    "spec max_budget .nan": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: teams[0].max_budget",
                                _spec("teams:\n  - team_id: x\n    max_budget: .nan\n")),
    "spec max_budget .inf": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: users[0].max_budget",
                                _spec("users:\n  - user_id: x\n    max_budget: .inf\n")),
    "spec max_budget 1e309": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: teams[0].max_budget",
                                 _spec("teams:\n  - team_id: x\n    max_budget: 1e309\n")),
    "spec tpm_limit 2^63": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: teams[0].tpm_limit",
                               _spec(f"teams:\n  - team_id: x\n    tpm_limit: {BIG}\n")),
    "spec alias NUL": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: teams[0].team_alias",
                          _spec('teams:\n  - team_id: x\n    team_alias: "a\\0b"\n')),
    "spec not UTF-8": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml",
                          {"spec.yaml": b"teams:\n  - team_id: \xff\n"}),
    "spec 1000 deep": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml",
                          _spec(f"teams:\n  - team_id: x\n    metadata: {{a: {DEEP_YAML}}}\n")),
    "spec metadata 100 deep": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: teams[0].metadata",
                                  _spec("teams:\n  - team_id: x\n    metadata: " + "{a: " * 100 + "1" + "}" * 100
                                        + "\n")),
    "spec key duration 10^9 days": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:4: keys[0].duration",
                                       _spec(f"keys:\n  - key_alias: k\n    user_id: u1\n    duration: {DAYS}\n")),
    "spec budget_duration 10^9 days": Row(("provision", "apply", "{dir}/spec.yaml"),
                                          "spec.yaml:3: teams[0].budget_duration",
                                          _spec(f"teams:\n  - team_id: x\n    budget_duration: {DAYS}\n")),
    "spec empty alias": Row(("provision", "apply", "{dir}/spec.yaml"), "spec.yaml:3: teams[0].team_alias",
                            _spec("teams:\n  - team_id: x\n    team_alias: ''\n")),
    # -- CSV -------------------------------------------------------------------------------
    "csv max_budget nan": Row(("user", "provision", "{dir}/users.csv"), "users.csv:2",
                              {"users.csv": b"user_id,max_budget\nx,nan\n"}),
    "csv NUL": Row(("user", "provision", "{dir}/users.csv"), "users.csv:2",
                   {"users.csv": b"user_id,user_alias\nx,a\x00b\n"}),
    "csv not UTF-8": Row(("user", "provision", "{dir}/users.csv"), "users.csv",
                         {"users.csv": b"user_id,user_alias\nx,\xff\n"}),
    # -- budgets files ---------------------------------------------------------------------
    "budgets max_budget .nan": Row(("budget", "sync", "{dir}/b.yaml"), "b.yaml:3: keys[0].max_budget",
                                   {"b.yaml": b"keys:\n  - alias: k\n    max_budget: .nan\n"}),
    "budgets tpm_limit 2^63": Row(("budget", "sync", "{dir}/b.yaml"), "b.yaml:3: keys[0].tpm_limit",
                                  {"b.yaml": f"keys:\n  - alias: k\n    tpm_limit: {BIG}\n".encode()}),
    "budgets NUL": Row(("budget", "sync", "{dir}/b.yaml"), "b.yaml:2: keys[0].alias",
                       {"b.yaml": b'keys:\n  - alias: "a\\0b"\n    max_budget: 1\n'}),
    "budgets binary": Row(("budget", "sync", "{dir}/b.yaml"), "b.yaml:2",
                          {"b.yaml": bytes(range(256)) * 4}),
    "budgets not UTF-8": Row(("budget", "sync", "{dir}/b.yaml"), "b.yaml:2",
                             {"b.yaml": b"keys:\n  - alias: \xe9t\xe9\n"}),
    "budgets 1000 deep": Row(("budget", "sync", "{dir}/b.yaml"), "b.yaml",
                             {"b.yaml": f"keys: {DEEP_YAML}\n".encode()}),
    "budgets duration 10^9 days": Row(("budget", "sync", "{dir}/b.yaml"),
                                      "b.yaml:3: keys[0].budget_duration",
                                      {"b.yaml": f"keys:\n  - alias: k\n    budget_duration: {DAYS}\n".encode()}),
    # -- the proxy config ------------------------------------------------------------------
    "proxy config nan": Row(("team", "provision", "--alias", "x", "--proxy-config", "{dir}/config.yaml"),
                            "config.yaml:2",
                            {"config.yaml": b"litellm_settings:\n  max_internal_user_budget: .nan\n"}),
}


# -- NUL and non-UTF-8 in every option and argument, generated from the command tree ---------------
# A value is checked as typed, before Click converts it (cli._checked_value): so every parameter of every
# command is a row, and a new flag is one automatically. The database is a port nothing listens on: a
# value that got past the edge would reach the connection and fail with exit 1, so exit 2 naming the
# flag also proves nothing was read or written (ROWS above hold a few such values against a real one).
UNREACHABLE = "postgresql://dbctl@127.0.0.1:1/none"
BAD_TEXT = {"NUL": "a\x00b", "non-UTF-8": NON_UTF8_ARG}


def _leaf_commands(command: Any, path: tuple[str, ...], ctx: Any) -> list[tuple[tuple[str, ...], Any]]:
    if not hasattr(command, "list_commands"):
        return [(path, command)]
    return [leaf for name in command.list_commands(ctx)
            for leaf in _leaf_commands(command.get_command(ctx, name), (*path, name), ctx)]


def _flag_rows() -> dict[str, tuple[tuple[str, ...], str]]:
    """id -> (argv with {bad} where the bad value goes, the name the error must give)."""
    from litellm_dbctl import cli

    root = cli.command()
    rows: dict[str, tuple[tuple[str, ...], str]] = {
        "--database-url": (("--database-url", "{bad}", "spend", "top", "--by", "user"), "--database-url"),
        "--output": (("--output", "{bad}", "spend", "top", "--by", "user"), "--output"),
    }
    for path, command in _leaf_commands(root, (), root.make_context("dbctl", ["--help"], resilient_parsing=True)):
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for param in command.params:
            if param.param_type_name == "option" and (param.is_flag or param.count or param.name == "help"):
                continue
            named = cli._flag_name(param)
            given = (*["x"] * arguments.index(param), "{bad}") if param in arguments else \
                (named, *["{bad}"] * param.nargs)
            rows[f"{' '.join(path)} {named}"] = ((*path, *given), named)
    return rows


FLAG_ROWS = _flag_rows()


def test_the_generated_rows_cover_every_spend_filter() -> None:
    for command in ("summary", "top", "daily", "logs", "export"):
        for flag in ("--user", "--team", "--key", "--model", "--org", "--end-user", "--tag"):
            assert f"spend {command} {flag}" in FLAG_ROWS, (command, flag)
    assert len(FLAG_ROWS) > 200


@pytest.mark.slow  # ~540 rows, in process, no database
@pytest.mark.parametrize("bad", list(BAD_TEXT))
@pytest.mark.parametrize("name", list(FLAG_ROWS))
def test_nul_or_non_utf8_in_any_flag_is_refused_naming_it(name: str, bad: str) -> None:
    args, named = FLAG_ROWS[name]
    argv = [BAD_TEXT[bad] if a == "{bad}" else a for a in args]
    result = invoke(["--database-url", UNREACHABLE, *argv] if argv[0] != "--database-url" else argv)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.code == 2, result
    assert len(lines) == 1, result
    assert lines[0].startswith(f"dbctl: error: {named}: ") and ("NUL" in lines[0] or "UTF-8" in lines[0]), result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stdout == ""


def _fingerprint(db: Any) -> dict[str, str]:
    """Every public table's rows by xmin: equal before and after means nothing was written."""
    tables = [r["t"] for r in db.query("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")]
    return {t: db.value(f'SELECT count(*) || \':\' || coalesce(string_agg(xmin::text, \',\' ORDER BY xmin::text), \'\') '
                        f'FROM "{t}"') for t in tables}


@pytest.mark.slow  # 72 rows, each a fresh database, a seeded spec and a fingerprint
@pytest.mark.parametrize("name", list(ROWS))
def test_bad_value_is_refused_at_the_edge(name: str, db: Any, tmp_path: Path) -> None:
    row = ROWS[name]
    (tmp_path / "seed.yaml").write_text(SEED)
    assert invoke(["--database-url", db.url, "-q", "provision", "apply", str(tmp_path / "seed.yaml")]).code == 0
    for file, content in row.files.items():
        (tmp_path / file).write_bytes(content)
    before = _fingerprint(db)
    args = [a.replace("{dir}", str(tmp_path)) for a in row.args]
    result = invoke(["--database-url", db.url, *args], input=row.stdin)  # type: ignore[arg-type]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    hints = [line for line in lines if line.startswith("dbctl: hint: ")]  # at most one, after the error
    assert result.code == 2, result
    assert len(lines) - len(hints) == 1 and len(hints) <= 1 and not lines[0].startswith("dbctl: hint"), result
    assert lines[0].startswith("dbctl: error: ") and row.named in lines[0], result
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert _fingerprint(db) == before


@pytest.mark.parametrize("value", ["nan", "inf", "-1s", "86401s", "5", "true", "1e3s"])
def test_a_wait_refuses_what_would_wait_forever_or_is_not_a_duration(value: str) -> None:
    with pytest.raises(checks.InvalidValue):
        spans.parse(value, former_unit=None, maximum=86400)


def test_json_text_bounds_nesting_before_the_decoder_recurses() -> None:
    assert checks.json_text('{"a": [1, "b"]}') == {"a": [1, "b"]}
    for bad in (DEEP_JSON, '{"a": NaN}', '"x\\u0000"', "{", "a\x00"):
        with pytest.raises(checks.InvalidValue):
            checks.json_text(bad)


def test_lifetime_refuses_an_expiry_past_year_9999() -> None:
    assert checks.lifetime("30d") == "30d"
    with pytest.raises(checks.InvalidValue, match="past year 9999"):
        checks.lifetime(DAYS)
