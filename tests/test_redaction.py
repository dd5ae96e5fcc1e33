"""Passwords never show, however malformed the URL: error lines, -v/-vv tracebacks, and redact() itself.

A password may hold '@', ':', '/', '?', '#' and spaces; a mistyped URL may lack its scheme or a slash.
Whatever could be the password (from the first ':' of the user-info to the last '@') must not be echoed.
"""

from __future__ import annotations

from unittest import mock
from urllib.parse import quote

import pytest
from helpers import CliResult, invoke, run_process
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from litellm_dbctl.common import redaction
from litellm_dbctl.common.errors import ExitCode, InvalidInput
from litellm_dbctl.db import config

# (URL, its password): the audit's findings and their relatives.
MALFORMED = [
    ("postgres:pSECRET@127.0.0.1/x", "pSECRET"),  # no '//': "postgres" is the user
    ("postgresql:/u:pSECRET@h/x", "pSECRET"),
    ("postgresql//u:pSECRET@h/x", "pSECRET"),
    ("u:pSECRET@h:5432/x", "pSECRET"),
    ("postgresql://u:p/SECRET@h/x", "p/SECRET"),  # urllib reads port 'p'
    ("postgresql://u:pSE@CRET@[::1/x", "pSE@CRET"),  # user-info ends at the LAST '@'
    ("postgresql://u:pSE@CRET@h:99999/x", "pSE@CRET"),
    ("postgresql://u:pwd9#SECRET@h/x", "pwd9#SECRET"),
    ("postgresql://u:1?SECRET@h/x", "1?SECRET"),  # urllib reads host u, port 1, query "SECRET@h/x"
    ("postgresql://u:p SECRET@h:abc/x", "p SECRET"),
    ("postgresql://u:pSECRET@/x", "pSECRET"),  # no host
    ("postgresql://litellm:p@ssw0rd-REST@host/db", "p@ssw0rd-REST"),  # libpq would end the password at the first '@'
    ("postgresql://u:p%zzSECRET@h/x", "p%zzSECRET"),  # libpq's message quotes the token it cannot decode
    ("host=h dbname=x password='p SE\\'CRET", "p SE'CRET"),  # conninfo, its quote unterminated
    ("host=h password=pSE CRET dbname=x", "pSE CRET"),  # conninfo, a space unquoted: libpq quotes "CRET"
]
SOURCES = ["--database-url", "DBCTL_DATABASE_URL", "DATABASE_URL", "DIRECT_URL"]


def leaked(text: str, password: str) -> list[str]:
    """Every 4-character piece of `password` found in `text`: a partial echo is a leak too."""
    return sorted({password[i:i + 4] for i in range(len(password) - 3) if password[i:i + 4] in text})


def run_with(source: str, url: str, verbosity: list[str]) -> CliResult:
    if source == "--database-url":
        return invoke(["--database-url", url, *verbosity, "user", "list"])
    if source == "DIRECT_URL":  # read by commands that migrate or lock, when the URL comes from the environment
        env = {"DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "DIRECT_URL": url}
        return invoke([*verbosity, "migrate", "status"], env=env)
    return invoke([*verbosity, "user", "list"], env={source: url})


@pytest.mark.parametrize("verbosity", [[], ["-v"], ["-vv"]], ids=["plain", "-v", "-vv"])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("url", "password"), MALFORMED, ids=[url for url, _ in MALFORMED])
def test_a_malformed_url_is_exit_2_naming_the_source_without_the_password(url, password, source, verbosity) -> None:
    result = run_with(source, url, verbosity)
    assert result.code == ExitCode.USAGE, result
    assert not leaked(result.stdout + result.stderr, password), result
    errors = [line for line in result.stderr.splitlines() if line.startswith("dbctl: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"dbctl: error: {source}: "), result
    assert ("Traceback" in result.stderr) == bool(verbosity), result  # -v shows the (redacted) traceback


@pytest.mark.parametrize(("url", "password"), MALFORMED[:6], ids=[url for url, _ in MALFORMED[:6]])
def test_the_audit_findings_through_the_installed_command(url, password) -> None:
    flag = run_process(["--database-url", url, "-vv", "user", "list"])
    env = run_process(["-v", "user", "list"], env={"DATABASE_URL": url})
    for result, source in ((flag, "--database-url"), (env, "DATABASE_URL")):
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert not leaked(result.stdout + result.stderr, password), result.stderr
        assert f"dbctl: error: {source}: " in result.stderr


def test_a_misread_url_is_explained_without_quoting_what_urllib_read() -> None:
    with pytest.raises(InvalidInput) as info:
        config.parse("postgresql://u:pwd9/SECRET@h:5432/x", "DATABASE_URL")
    assert info.value.message.startswith("DATABASE_URL: malformed URL (an '@' after the host; in a password, write @ as %40")
    assert info.value.message.endswith("): postgresql://u:***@h:5432/x")
    with pytest.raises(InvalidInput) as info:
        config.parse("postgresql://u:pwd9@h:x9/x", "--database-url")
    assert "the port is not a number" in info.value.message and "'x9'" not in info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres:pSECRET@127.0.0.1/x", "postgres:***@127.0.0.1/x"),
        ("postgresql:/u:pSECRET@h/x", "postgresql:***@h/x"),
        ("postgresql//u:pSECRET@h/x", "postgresql//u:***@h/x"),
        ("u:pSECRET@h:5432/x", "u:***@h:5432/x"),
        ("postgresql://u:p/SECRET@h/x", "postgresql://u:***@h/x"),
        ("postgresql://u:pSE@CRET@[::1/x", "postgresql://u:***@[::1/x"),
        ("redis://:pSE@CRET@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis//:pSECRET@cache", "redis//:***@cache"),
        ("not a Redis URL (expected redis://...): redis//:pSECRET@cache",
         "not a Redis URL (expected redis://...): redis//:***@cache"),
        (":pSECRET@cache:6379", ":***@cache:6379"),
        ("bad URL: 'postgresql://u:p SECRET@h/x'", "bad URL: 'postgresql://u:***@h/x'"),
        ("host=h password='p SE\\'CRET' user=u", "host=h password=*** user=u"),
        ('host=h password="p SECRET" user=u', "host=h password=*** user=u"),
        ("PGPASSWORD=pSECRET dbctl", "PGPASSWORD=*** dbctl"),
        ("Port could not be cast to integer value as 'pSECRET'", "Port could not be cast to integer value as '***'"),
        # what must stay as it is
        ("postgresql://postgres@127.0.0.1:5432/postgres?host=/tmp", "postgresql://postgres@127.0.0.1:5432/postgres?host=/tmp"),
        ("dbctl: error: DATABASE_URL: the URL names no host: postgresql:///x",
         "dbctl: error: DATABASE_URL: the URL names no host: postgresql:///x"),
        ("user alice@example.com: created", "user alice@example.com: created"),
    ],
)
def test_redact_recognises_every_shape(text: str, expected: str) -> None:
    with mock.patch.object(redaction, "_secrets", set()):
        assert redaction.redact(text) == expected


# -- properties ---------------------------------------------------------------------------------

passwords = st.text(alphabet=[chr(c) for c in range(32, 127)], min_size=4, max_size=24)
SCHEME_SHAPES = [
    "postgresql://litellm:{}@db.example:5432/litellm",
    "postgres://litellm:{}@[::1]/litellm?sslmode=require",
    "redis://:{}@cache:6379/0",
    "rediss://default:{}@cache",
]
SCHEMELESS_SHAPES = [  # mistyped: no scheme, a scheme without '//', or '//' without ':'
    "postgres:{}@127.0.0.1/x",
    "postgresql:/litellm:{}@db.example/x",
    "postgresql//litellm:{}@db.example/x",
    "litellm:{}@db.example:5432/x",
    "redis//:{}@cache",
    ":{}@cache:6379",
]


def shaped(shape: str, password: str) -> tuple[str, str]:
    """The URL, and what it should look like redacted (in which the password must not occur)."""
    frame = shape.format("***")
    assume(password not in frame and quote(password, safe="") not in frame)
    return shape.format(password), frame


@settings(max_examples=300, deadline=None)
@given(password=passwords, shape=st.sampled_from(SCHEME_SHAPES + SCHEMELESS_SHAPES))
@example(password="pSE@CRET", shape=SCHEME_SHAPES[0])
@example(password="p/SE:CR@T x", shape=SCHEMELESS_SHAPES[3])
def test_redact_url_hides_any_password(password: str, shape: str) -> None:
    url, frame = shaped(shape, password)
    host_part = frame[frame.rindex("@"):]
    with mock.patch.object(redaction, "_secrets", set()):
        for candidate in (url, shape.format(quote(password, safe=""))):
            shown = redaction.redact_url(candidate)
            assert password not in shown and quote(password, safe="") not in shown
            assert shown.endswith(host_part) and "***" in shown


@settings(max_examples=300, deadline=None)
@given(password=passwords, shape=st.sampled_from(SCHEME_SHAPES + SCHEMELESS_SHAPES))
def test_redact_hides_any_password_in_running_text(password: str, shape: str) -> None:
    url, frame = shaped(shape, password)
    assume("\\" not in password)  # a repr would double it

    def texts(url: str) -> list[str]:
        return [url, f"dbctl: error: --database-url: bad URL: {url}", f"ValueError: {url!r}\n  next line"]

    assume(not any(password in text for text in texts(frame)))
    # Without knowing the URL, `scheme://user: ` is prose, a scheme-less password is recognised up to
    # whitespace, and `x://...` is a scheme; a URL dbctl parsed had its password registered first (below).
    if (not password[0].isspace() if shape in SCHEME_SHAPES
            else not (any(c.isspace() for c in password) or password.startswith("//"))):
        with mock.patch.object(redaction, "_secrets", set()):
            for text in texts(url):
                assert password not in redaction.redact(text), text
    with mock.patch.object(redaction, "_secrets", set()):
        redaction.register_secret_url(url)
        for text in texts(url):
            assert password not in redaction.redact(text), text


@settings(max_examples=300, deadline=None)
@given(password=passwords, shape=st.sampled_from([s for s in SCHEME_SHAPES + SCHEMELESS_SHAPES if "redis" not in s]))
def test_parse_never_shows_the_password_even_without_registered_secrets(password: str, shape: str) -> None:
    """The message itself is clean: it does not rely on the password having been registered."""
    url, frame = shaped(shape, password)
    assume(password not in repr(config.Target(frame.replace("postgres://", "postgresql://"), "DATABASE_URL")))
    with mock.patch.object(redaction, "_secrets", set()), \
            mock.patch.object(redaction, "register_secret", lambda _: None), \
            mock.patch.object(config, "register_secret", lambda _: None):
        for candidate in (url, shape.format(quote(password, safe=""))):
            try:
                target = config.parse(candidate, "DATABASE_URL")
            except InvalidInput as exc:  # a fixed problem text, then the URL as redact_url shows it
                assert exc.message.startswith("DATABASE_URL: ") and exc.hint is None
                assert exc.message.endswith(f": {redaction.redact_url(candidate.strip())}")
                shown = [redaction.redact_url(candidate.strip())]
            else:
                shown = [target.redacted, repr(target)]
            assert not any(password in text or quote(password, safe="") in text for text in shown)


@settings(max_examples=200, deadline=None)
@given(password=passwords)
def test_conninfo_passwords_are_hidden_quoted_or_not(password: str) -> None:
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    texts = [f"host=h password='{escaped}' user=u"]
    if not any(c.isspace() for c in password) and password[0] not in "'\"":
        texts.append(f"host=h password={password} user=u")
    assume(password not in "host=h password=*** user=u")
    with mock.patch.object(redaction, "_secrets", set()):
        for text in texts:
            assert redaction.redact(text) == "host=h password=*** user=u"


# -- Redis ------------------------------------------------------------------------------------------

REDIS_MALFORMED = [
    ("redis//:pSECRET@cache:6379", "pSECRET"),
    (":pSECRET@cache:6379", "pSECRET"),
    ("redis://u:pwd9/SECRET@cache:6379", "pwd9/SECRET"),  # urllib's error quotes 'pwd9'
    ("redis://:pSE@CRET@[::1/0", "pSE@CRET"),
    ("redis://u:pSE@CRET@cache:99999", "pSE@CRET"),
]


@pytest.mark.parametrize(("url", "password"), REDIS_MALFORMED, ids=[url for url, _ in REDIS_MALFORMED])
def test_a_malformed_redis_url_fails_without_the_password(db, url, password) -> None:
    """cache.Redis parses the URL itself: what urllib raises there is still an internal error (exit 1),
    its quoted text redacted; exit 2 naming the option needs cache.py to use config.split_url."""
    flag = run_process(["--database-url", db.url, "-v", "budget", "sync", "--redis-url", url])
    env = run_process(["--database-url", db.url, "-v", "budget", "sync"], env={"REDIS_URL": url})
    for result in (flag, env):
        assert result.returncode != 0, result.stderr
        assert not leaked(result.stdout + result.stderr, password), result.stderr


@pytest.mark.parametrize("verbosity", ["-q", "-v", "-vv"])
def test_a_raw_at_in_the_password_is_refused_before_libpq_splits_it(verbosity) -> None:
    """libpq ends the password at the first '@' and took `ssw0rd-REST@host` for the host, which every
    error then printed, -q included. Refused, naming the problem and the fix, never a piece of it."""
    url = "postgresql://litellm:p@ssw0rd-REST@host/db"
    flag = run_process([verbosity, "--database-url", url, "db", "status"])
    env = run_process([verbosity, "migrate", "status"], env={"DATABASE_URL": url})
    direct = run_process([verbosity, "migrate", "status"],
                         env={"DATABASE_URL": "postgresql://u@127.0.0.1:1/x", "DIRECT_URL": url})
    for result, source in ((flag, "--database-url"), (env, "DATABASE_URL"), (direct, "DIRECT_URL")):
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert not leaked(result.stdout + result.stderr, "p@ssw0rd-REST"), result.stderr
        assert f"dbctl: error: {source}: malformed URL (the user name or password holds a raw '@'" in result.stderr
        assert "percent-encode it: write @ as %40" in result.stderr
