"""Where the database is: precedence, Prisma's URL parameters, libpq's forms, and redaction."""

from __future__ import annotations

import json
import string
from unittest import mock
from urllib.parse import quote

import pytest
from helpers import run_process
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from litellm_dbctl.common import redaction
from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import config, database

A = "postgresql://a@host-a:5432/a"
B = "postgresql://b@host-b:5432/b"
C = "postgresql://c@host-c:5432/c"
D = "postgresql://d@host-d:5432/d"


@pytest.mark.parametrize(
    ("flag", "env", "direct", "expected_host", "expected_source"),
    [
        (A, {"DBCTL_DATABASE_URL": B, "DATABASE_URL": C, "DIRECT_URL": D}, False, "host-a", "--database-url"),
        (A, {"DIRECT_URL": D}, True, "host-a", "--database-url"),  # an explicit URL is meant as given
        (None, {"DBCTL_DATABASE_URL": B, "DATABASE_URL": C}, False, "host-b", "DBCTL_DATABASE_URL"),
        (None, {"DATABASE_URL": C}, False, "host-c", "DATABASE_URL"),
        (None, {"DATABASE_URL": C, "DIRECT_URL": D}, False, "host-c", "DATABASE_URL"),
        (None, {"DATABASE_URL": C, "DIRECT_URL": D}, True, "host-d", "DIRECT_URL"),
        (None, {"DBCTL_DATABASE_URL": B, "DIRECT_URL": D}, True, "host-d", "DIRECT_URL"),
    ],
)
def test_precedence(flag, env, direct, expected_host, expected_source) -> None:
    target = config.resolve(flag, direct=direct, environ=env)
    assert f"@{expected_host}:" in target.url
    assert target.source == expected_source


def test_no_url_means_the_embedded_server_only_at_a_terminal(tmp_path) -> None:
    env = {"DBCTL_EMBEDDED_DIR": str(tmp_path / "pg")}
    target = config.resolve(None, environ=env, interactive=True)
    assert target.source == "embedded"
    assert target.embedded_dir == tmp_path / "pg"
    assert target.redacted == f"embedded at {tmp_path / 'pg'}"
    with pytest.raises(InvalidInput, match=r"^no database configured: set DATABASE_URL or --database-url \(or --embedded\)$"):
        config.resolve(None, environ=env)


@pytest.mark.parametrize(("flag", "embedded", "env", "source"), [
    (None, True, {"DATABASE_URL": C}, "--embedded"),
    (None, False, {"DBCTL_DATABASE_URL": "embedded", "DATABASE_URL": C}, "DBCTL_DATABASE_URL=embedded"),
    (None, False, {"DBCTL_DATABASE_URL": "embedded", "DIRECT_URL": D}, "DBCTL_DATABASE_URL=embedded"),
])
def test_the_embedded_server_when_chosen(tmp_path, flag, embedded, env, source) -> None:
    target = config.resolve(flag, direct=True, embedded=embedded, environ={**env, "DBCTL_EMBEDDED_DIR": str(tmp_path)})
    assert (target.source, target.embedded_dir) == (source, tmp_path)


@pytest.mark.parametrize(("flag", "embedded", "env", "message"), [
    ("", False, {"DATABASE_URL": C}, "--database-url is empty"),
    (A, True, {}, "--database-url and --embedded: give one, not both"),
    (None, False, {"DATABASE_URL": ""}, "DATABASE_URL is set but empty"),
    (None, False, {"DBCTL_DATABASE_URL": " ", "DATABASE_URL": C}, "DBCTL_DATABASE_URL is set but empty"),
])
def test_an_empty_setting_is_not_unset(flag, embedded, env, message) -> None:
    with pytest.raises(InvalidInput, match=f"^{message}"):
        config.resolve(flag, embedded=embedded, environ=env, interactive=True)


def test_direct_url_inherits_the_schema_of_database_url() -> None:
    env = {"DATABASE_URL": "postgresql://u:p@pooler:6543/db?schema=litellm&pgbouncer=true",
           "DIRECT_URL": "postgresql://u:p@primary:5432/db"}
    target = config.resolve(None, direct=True, environ=env)
    assert "primary" in target.url and target.schema == "litellm" and not target.pgbouncer


def test_prisma_parameters_are_understood_or_dropped() -> None:
    url = ("postgresql://u:pw@h:5432/db?schema=tenant_1&pgbouncer=true&connection_limit=5&pool_timeout=10"
           "&socket_timeout=3&statement_cache_size=0&sslmode=require&connect_timeout=7&application_name=x")
    target = config.parse(url, "DATABASE_URL")
    assert target.schema == "tenant_1"
    assert target.pgbouncer is True
    for dropped in ("schema", "pgbouncer", "connection_limit", "pool_timeout", "socket_timeout", "statement_cache_size"):
        assert dropped not in target.url
    for kept in ("sslmode=require", "connect_timeout=7", "application_name=x"):
        assert kept in target.url


@pytest.mark.parametrize(
    "url",
    ["mysql://u:p@h/db", "postgresql://u:p@h:notaport/db", "postgresql://u:p@h:99999/db",
     "postgresql:///db", "not a url", "postgresql://u:p@h/db?schema=bad;name",
     "postgresql://u:p%80@h/db"],  # a %-escape that is not UTF-8: psycopg's UnicodeDecodeError before
)
def test_malformed_urls_are_invalid_input_without_the_password(url) -> None:
    with pytest.raises(InvalidInput) as info:
        config.parse(url, "DATABASE_URL")
    assert "DATABASE_URL" in info.value.message
    assert ":p@" not in info.value.message and ":p%80@" not in info.value.message


def libpq(target: config.Target) -> dict[str, str]:
    """What libpq reads from the target's URL."""
    return conninfo_to_dict(target.url)


@pytest.mark.parametrize(("url", "expected"), [
    # a socket directory as a parameter: the URL was rewritten into `postgresql:/litellm?...`, which libpq refuses
    ("postgresql:///litellm?host=/var/run/postgresql", {"host": "/var/run/postgresql", "dbname": "litellm"}),
    ("postgresql://postgres@/postgres?host=/tmp/run&port=5432",
     {"host": "/tmp/run", "port": "5432", "user": "postgres", "dbname": "postgres"}),
    ("postgresql://%2Fvar%2Frun%2Fpostgresql/litellm", {"host": "/var/run/postgresql", "dbname": "litellm"}),
    # several hosts: refused as a bad port
    ("postgresql://u@h1:5432,h2:5433/db", {"user": "u", "host": "h1,h2", "port": "5432,5433", "dbname": "db"}),
    ("postgres://u:p%40w@h1,h2:6432/db?target_session_attrs=read-write&schema=s1&connection_limit=4",
     {"user": "u", "password": "p@w", "host": "h1,h2", "port": ",6432", "dbname": "db",
      "target_session_attrs": "read-write"}),
    ("postgresql://u@[::1]:5433/db?application_name=a+b", {"user": "u", "host": "::1", "port": "5433", "dbname": "db",
                                                             "application_name": "a+b"}),
    # libpq's key=value form: refused as "not a URL"
    ("host=/var/run/postgresql dbname=litellm user=postgres",
     {"host": "/var/run/postgresql", "dbname": "litellm", "user": "postgres"}),
    ("  host=h1,h2 port=5433 user=u password='it\\'s a secret' dbname=d sslmode=require",
     {"host": "h1,h2", "port": "5433", "user": "u", "password": "it's a secret", "dbname": "d", "sslmode": "require"}),
    ("service=litellm", {"service": "litellm"}),
])
def test_every_form_libpq_reads_is_read_by_libpq(url: str, expected: dict[str, str]) -> None:
    target = config.parse(url, "DATABASE_URL")
    assert libpq(target) == expected
    assert target.redacted.startswith("postgresql://")


def test_the_url_keeps_hosts_where_urllib_and_people_read_them() -> None:
    assert config.parse("postgresql:///litellm?host=/var/run/postgresql", "x").url == \
        "postgresql://%2Fvar%2Frun%2Fpostgresql/litellm"
    assert config.parse("postgresql://u@h1:5432,h2:5433/db", "x").url == "postgresql://u@h1,h2/db?port=5432,5433"
    assert config.parse("host=db.example port=6543 user=u password=pw dbname=litellm", "x").redacted == \
        "postgresql://u:***@db.example:6543/litellm"


hosts = st.one_of(st.sampled_from(["db.example", "127.0.0.1", "::1", "/var/run/postgresql", "/tmp/a b", "h-1", ""]),
                  st.text(alphabet=string.ascii_lowercase + "./-", min_size=1, max_size=12))
values = st.text(alphabet=[chr(c) for c in range(32, 127)] + ["é", "\u00a0"], min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(host=st.lists(hosts, min_size=1, max_size=3), port=st.lists(st.integers(1, 65535).map(str), max_size=3),
       user=st.none() | values, password=st.none() | values, dbname=st.none() | values,
       extra=st.dictionaries(st.sampled_from(["sslmode", "application_name", "options", "connect_timeout"]), values,
                             max_size=2))
@example(host=[""], port=[], user="u", password=None, dbname="d", extra={})
def test_any_connection_string_reads_back_the_same(host, port, user, password, dbname, extra) -> None:
    assume(len(port) in (0, 1, len(host)))
    params = {"host": ",".join(host), **({"port": ",".join(port)} if port else {}), **extra}
    params.update({k: v for k, v in (("user", user), ("password", password), ("dbname", dbname)) if v is not None})
    target = config.parse(make_conninfo(**params), "x")
    assert libpq(target) == params
    assert database.describe(target)  # urllib reads the URL dbctl writes, for messages
    if password is not None:
        assert ":***@" in target.redacted or "password=***" in target.redacted


def test_a_raw_at_in_the_password_is_refused_naming_the_fix_and_nothing_of_the_password() -> None:
    with pytest.raises(InvalidInput) as info:
        config.parse("postgresql://litellm:p@ssw0rd-REST@host/db", "DATABASE_URL")
    message = info.value.message
    assert message.startswith("DATABASE_URL: malformed URL (the user name or password holds a raw '@'")
    assert "percent-encode it: write @ as %40" in message
    assert message.endswith(": postgresql://litellm:***@host/db")
    assert not any(piece in message for piece in ("p@ss", "ssw0rd", "REST"))


@pytest.mark.parametrize(("text", "problem"), [
    ("postgresql://u:pa%zzSECRET@h/db", "a '%' not followed by two hex digits; write % as %25"),
    ("postgresql://u:pa%00SECRET@h/db", "%00 in a value"),
    ("host=h password=pa SECRET", "a word without '=' (quote a value that holds spaces)"),
    ("host=h password='pa SECRET", "an unterminated quoted value"),
    ("host=h SECRET=x", "an unknown parameter"),
])
def test_what_libpq_cannot_read_is_named_in_our_words_not_its_quotes(text: str, problem: str) -> None:
    with mock.patch.object(redaction, "_secrets", set()), pytest.raises(InvalidInput) as info:  # clean on its own
        config.parse(text, "--database-url")
    assert f"({problem})" in info.value.message and "SECRET" not in info.value.message


password_text = st.text(alphabet=string.ascii_letters + string.digits + "!$%^&*()-_=+[]{};,.<>~", min_size=3, max_size=30)


@settings(max_examples=200)
@given(password=password_text, user=st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10))
def test_redaction_removes_any_password(password: str, user: str) -> None:
    url = f"postgresql://{user}:{quote(password, safe='')}@db.example:5432/litellm"
    target = config.parse(url, "DATABASE_URL")
    # A password that is a substring of the surrounding text (`schema=None`) cannot be told apart.
    frame = repr(config.Target(f"postgresql://{user}:***@db.example:5432/litellm", "DATABASE_URL")) + "failed: password="
    assume(password not in frame and quote(password, safe="") not in frame)
    try:
        for text in (target.redacted, repr(target), redaction.redact(f"failed: {url}"),
                     redaction.redact(f"password={password}")):
            assert password not in text
            assert quote(password, safe="") not in text
    finally:
        redaction._secrets.clear()  # hypothesis examples share one test run: start each one clean


def test_redaction_keeps_user_host_and_database() -> None:
    target = config.parse("postgresql://litellm_admin:Zq9-secret-Zq9@db.example:5432/litellm", "x")
    assert target.redacted == "postgresql://litellm_admin:***@db.example:5432/litellm"


def test_target_repr_never_shows_the_password() -> None:
    target = config.parse("postgresql://u:hunter2hunter2@h/db", "x")
    assert "hunter2hunter2" not in repr(target) and "hunter2hunter2" not in str(target)


# -- through the CLI ------------------------------------------------------------------------------


def server(db) -> dict[str, str]:
    """The test server's user, database, TCP address or socket directory, as libpq reads db.url."""
    return conninfo_to_dict(db.url)


def socket_dir(db) -> str:
    """A directory the test server has its socket in (the machine's or the embedded one's)."""
    directory = (db.value("SELECT current_setting('unix_socket_directories')") or "").split(",")[0].strip()
    if not directory or directory.startswith("@"):
        pytest.skip("the server listens on no socket directory")
    return directory


def test_a_socket_url_connects_through_the_socket(db) -> None:
    """`postgresql:///db?host=/dir` was rewritten into `postgresql:/db?...`, which libpq refuses."""
    directory, params = socket_dir(db), server(db)
    url = f"postgresql:///{db.name}?host={directory}&user={params.get('user', 'postgres')}"
    status = run_process(["--database-url", url, "db", "status", "--json"])
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["connected_to"] == f"postgresql://{params.get('user', 'postgres')}@{quote(directory, safe='')}/{db.name}"
    assert shown["database"] == db.name and shown["tls"] is False
    listed = run_process(["--output", "json", "user", "list"], env={"DATABASE_URL": url})
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr


def test_a_multi_host_url_tries_the_hosts_in_turn(db) -> None:
    params = server(db)
    user = params.get("user", "postgres")
    if params.get("host", "").startswith("/"):  # the embedded server: a socket directory
        hosts = f"/nonexistent-dbctl,{params['host']}"
        url = f"postgresql://{user}@/{db.name}?host={hosts}&port={params.get('port', '5432')}"
    else:
        hosts = f"127.0.0.1:1,{params['host']}:{params.get('port', '5432')}"
        url = f"postgresql://{user}@{hosts}/{db.name}"
    status = run_process(["--database-url", url, "db", "status", "--json"])
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["database"] == db.name
    assert run_process(["user", "list"], env={"DATABASE_URL": url}).returncode == 0


def test_a_key_value_connection_string_is_a_database_url(db) -> None:
    conninfo = make_conninfo(db.url, dbname=db.name, application_name="ignored")  # dbctl names its sessions
    status = run_process(["db", "status", "--json"], env={"DATABASE_URL": conninfo})
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["database"] == db.name and shown["source"] == "DATABASE_URL"
    assert shown["connected_to"].startswith("postgresql://")
    doctor = run_process(["db", "doctor", "--json"], env={"DATABASE_URL": conninfo})
    assert doctor.returncode in (0, 3) and "reachable" in doctor.stdout, doctor.stderr  # 3: a check failed, it ran
    broken = run_process(["db", "status"], env={"DATABASE_URL": "host=h password='Zq9-pw"})
    assert broken.returncode == 2 and "dbctl: error: DATABASE_URL: malformed connection string (an unterminated " \
        "quoted value)" in broken.stderr, broken.stderr
