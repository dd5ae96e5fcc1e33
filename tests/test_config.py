"""Where the database is: precedence, Prisma's URL parameters, and redaction."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.db import config

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
     "postgresql:///db", "not a url", "postgresql://u:p@h/db?schema=bad;name"],
)
def test_malformed_urls_are_invalid_input_without_the_password(url) -> None:
    with pytest.raises(InvalidInput) as info:
        config.parse(url, "DATABASE_URL")
    assert "DATABASE_URL" in info.value.message
    assert ":p@" not in info.value.message


def test_socket_urls_with_a_host_parameter_are_accepted() -> None:
    target = config.parse("postgresql://postgres@/postgres?host=/tmp/run&port=5432", "x")
    assert "host=%2Ftmp%2Frun" in target.url or "host=/tmp/run" in target.url


password_text = st.text(alphabet=string.ascii_letters + string.digits + "!$%^&*()-_=+[]{};,.<>~", min_size=3, max_size=30)


@settings(max_examples=200)
@given(password=password_text, user=st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10))
def test_redaction_removes_any_password(password: str, user: str) -> None:
    from urllib.parse import quote

    url = f"postgresql://{user}:{quote(password, safe='')}@db.example:5432/litellm"
    target = config.parse(url, "DATABASE_URL")
    # A password that is a substring of the surrounding text (`schema=None`) cannot be told apart.
    frame = repr(config.Target(f"postgresql://{user}:***@db.example:5432/litellm", "DATABASE_URL")) + "failed: password="
    assume(password not in frame and quote(password, safe="") not in frame)
    try:
        for text in (target.redacted, repr(target), config.redact(f"failed: {url}"), config.redact(f"password={password}")):
            assert password not in text
            assert quote(password, safe="") not in text
    finally:
        config._secrets.clear()  # hypothesis examples share one test run: start each one clean


def test_redaction_keeps_user_host_and_database() -> None:
    target = config.parse("postgresql://litellm_admin:Zq9-secret-Zq9@db.example:5432/litellm", "x")
    assert target.redacted == "postgresql://litellm_admin:***@db.example:5432/litellm"


def test_target_repr_never_shows_the_password() -> None:
    target = config.parse("postgresql://u:hunter2hunter2@h/db", "x")
    assert "hunter2hunter2" not in repr(target) and "hunter2hunter2" not in str(target)
