"""Where the database is: URL precedence, Prisma's URL parameters, and password redaction.

Precedence: --database-url or --embedded > DBCTL_DATABASE_URL (`embedded` names the embedded
server) > DATABASE_URL (LiteLLM's own) > the embedded server, only with a person at a terminal.
Migrations and locks prefer DIRECT_URL (LiteLLM's way past a pooler) when the URL came from
the environment. LiteLLM's DATABASE_URL is a Prisma URL: `schema` becomes the search_path,
`pgbouncer=true` turns off server-side prepared statements, other Prisma-only parameters are dropped.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from litellm_dbctl.common.errors import InvalidInput

log = logging.getLogger("dbctl")

# Parameters libpq understands (PostgreSQL 17 docs, "Parameter Key Words"); anything else in a URL
# is Prisma's (connection_limit, pool_timeout, socket_timeout, statement_cache_size, sslaccept, ...).
LIBPQ_PARAMS = frozenset(
    ["host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth", "channel_binding", "connect_timeout", "client_encoding", "options", "application_name", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode", "sslnegotiation", "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts"]
)
SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


@dataclass(frozen=True)
class Target:
    """A resolved database: a libpq URL plus what Prisma's parameters asked for."""

    url: str = field(repr=False)  # holds the password: never print it, use `redacted`; "" = embedded
    source: str  # which setting it came from: "--database-url", "DATABASE_URL", "embedded", ...
    schema: str | None = None
    pgbouncer: bool = False
    embedded_dir: Path | None = None

    @property
    def redacted(self) -> str:
        if self.embedded_dir is not None:
            return f"embedded at {self.embedded_dir}"
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Target({self.redacted!r}, source={self.source!r}, schema={self.schema!r})"


# Target.source of the embedded server, by how it came to be used.
EMBEDDED_FLAG = "--embedded"
EMBEDDED_VARIABLE = "DBCTL_DATABASE_URL=embedded"
EMBEDDED_FALLBACK = "embedded"  # nothing configured, a person at a terminal


def resolve(
    url: str | None = None,
    *,
    direct: bool = False,
    environ: Mapping[str, str] | None = None,
    embedded: bool = False,
    interactive: bool = False,
) -> Target:
    """The database to use. `direct=True` (migrations, locks) prefers DIRECT_URL for env URLs.

    The embedded server only when chosen (`embedded`, DBCTL_DATABASE_URL=embedded) or, with nothing
    configured, when a person is at a terminal (`interactive`): a lost variable in a crontab must
    not turn into a run on a private server. A variable set but empty is a mistake, not "unset".
    Raises InvalidInput.
    """
    env = os.environ if environ is None else environ
    if url is not None and embedded:
        raise InvalidInput("--database-url and --embedded: give one, not both")
    if url is not None:
        if not url.strip():
            raise InvalidInput("--database-url is empty: give the database's URL")
        return parse(url, "--database-url")
    if embedded:
        return _embedded(EMBEDDED_FLAG, env)
    for name in ("DBCTL_DATABASE_URL", "DATABASE_URL"):
        value = env.get(name)
        if value is None:
            continue
        if not value.strip():
            raise InvalidInput(f"{name} is set but empty: set it to the database's URL, or unset it")
        if name == "DBCTL_DATABASE_URL" and value.strip() == "embedded":
            return _embedded(EMBEDDED_VARIABLE, env)
        target = parse(value, name)
        direct_url = env.get("DIRECT_URL")
        if direct and direct_url:
            via = parse(direct_url, "DIRECT_URL")
            if via.schema is None and target.schema is not None:
                via = Target(via.url, via.source, target.schema, via.pgbouncer)
            return via
        return target
    if interactive:
        return _embedded(EMBEDDED_FALLBACK, env)
    raise InvalidInput("no database configured: set DATABASE_URL or --database-url (or --embedded)")


def _embedded(source: str, env: Mapping[str, str]) -> Target:
    # The embedded server's module (subprocess, its package lookup) only when it is used.
    from litellm_dbctl.db import embedded

    return Target("", source, embedded_dir=embedded.data_dir(env))


def embedded_schema_hint(source: str) -> str:
    """The hint for a missing schema on the embedded server (`source` as in Target.source): never
    "deploy into it" to someone who did not choose it, as "run `dbctl migrate deploy`" would."""
    if source == EMBEDDED_FALLBACK:
        return ("this is dbctl's embedded server, used because no database is configured: set DATABASE_URL "
                "or --database-url to reach your proxy's database")
    return (f"this is dbctl's embedded server ({source}), not a proxy's database; to try dbctl on it, "
            "build LiteLLM's schema there with `dbctl --embedded migrate deploy`")


def parse(url: str, source: str) -> Target:
    """Split a Prisma-style URL into a libpq URL and the Prisma parameters. Raises InvalidInput."""
    parts = split_url(url, source, ("postgresql", "postgres"))
    if not parts.hostname and "host=" not in parts.query:
        raise InvalidInput(f"{source}: the URL names no host: {redact_url(url)}")
    schema: str | None = None
    pgbouncer = False
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "schema":
            if not SCHEMA_NAME.match(value):
                raise InvalidInput(f"{source}: invalid schema name in ?schema=: {value!r}")
            schema = value
        elif key == "pgbouncer":
            pgbouncer = value.lower() in ("true", "1", "yes")
        elif key in LIBPQ_PARAMS:
            kept.append((key, value))
        else:
            log.debug("%s: dropping Prisma-only URL parameter %s", source, key)
    scheme = "postgresql"
    libpq_url = urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept, quote_via=quote), ""))
    return Target(libpq_url, source, schema, pgbouncer)


def split_url(url: str, source: str, schemes: tuple[str, ...]) -> SplitResult:
    """`urlsplit` for a URL the user gave, with its password registered for redaction first.

    A password with a raw '@', '/', '?' or '#' makes urllib misread the URL (the host becomes part
    of the path, the password's tail a port): such URLs are refused, and every message names
    `source` and shows the URL with everything that could be the password replaced by ***. Raises
    InvalidInput, never urllib's ValueError (whose text quotes the misread port).
    """
    register_secret_url(url)
    value = url.strip()
    shown = redact_url(value)
    expected = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidInput(f"{source}: malformed URL (its host cannot be read; in a password, write [ as %5B "
                           f"and ] as %5D): {shown}") from None
    if parts.scheme not in schemes or not value[len(parts.scheme) + 1:].startswith("//"):
        raise InvalidInput(f"{source}: not a {expected} URL: {shown}")
    if "@" in parts.path + parts.query + parts.fragment:
        raise InvalidInput(f"{source}: malformed URL (an '@' after the host; in a password, write @ as %40, "
                           f"/ as %2F, ? as %3F, # as %23): {shown}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidInput(f"{source}: malformed URL (the port is not a number from 0 to 65535): {shown}") from None
    return parts


# -- redaction ----------------------------------------------------------------------------------

# A password in a URL runs from the first ':' of the user-info to the LAST '@' (a password may hold
# '@', ':', '/', spaces...). In running text (messages, logs, tracebacks) two shapes are recognised:
# `scheme://user:` up to the last '@' on the line (unless a space follows the ':', as in "(expected
# redis://...): x"), and a scheme-less token `user:pw@host` up to its last '@' (`postgres:pw@h`,
# `postgresql:/u:pw@h`, `postgresql//u:pw@h`, `:pw@h`); a token whose ':' is followed by '//' is a
# scheme, left to the first shape. `redact_url`, given a whole URL value, also covers passwords
# with spaces in scheme-less shapes; a URL dbctl parsed has its password registered besides.
_URL_HEAD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:]*:(?!\s)", re.I)
_TOKEN_PASSWORD = re.compile(r"(?<!\S)(?P<head>[^\s:]*:)(?!//)(?P<pw>\S*)@")
# libpq conninfo `password=...` (also sslpassword, PGPASSWORD=), quoted or not.
_KV_PASSWORD = re.compile(
    r"""(?P<head>\b\w*password\s*=\s*)(?P<pw>'(?:[^'\\\r\n]|\\.)*(?:'|$)|"(?:[^"\\\r\n]|\\.)*(?:"|$)|\S+)""",
    re.I | re.M,
)
# urllib's ValueErrors quote what it misread as the port, or the whole netloc.
_URLLIB_QUOTED = re.compile(r"""(?P<head>integer value as |netloc )(?P<pw>'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")""")
# Schemes whose `scheme://` `redact_url` trusts to be one (anything else may be `user:` + password).
_KNOWN_SCHEME = re.compile(r"\s*(?:postgres|postgresql|redis|rediss)://", re.I)
_secrets: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember a secret so `redact` removes it wherever it shows up (messages, tracebacks, logs)."""
    if secret and len(secret) >= 3:
        _secrets.add(secret)
        _secrets.add(quote(secret, safe=""))


def register_secret_url(url: str) -> None:
    """Register whatever could be the password of `url`, well-formed or not (and conninfo's)."""
    span = _password_span(url)
    candidates = [url[span[0]:span[1]]] if span else []
    candidates += [_unquote_kv(m["pw"]) for m in _KV_PASSWORD.finditer(url)]
    for candidate in candidates:
        register_secret(candidate)
        register_secret(unquote(candidate))


def _unquote_kv(value: str) -> str:
    """A conninfo value as libpq reads it (quotes removed, backslash escapes undone): the secret."""
    if value[:1] in ("'", '"'):
        value = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value[1:]
        return re.sub(r"\\(.)", r"\1", value)
    return value


def _password_span(url: str) -> tuple[int, int] | None:
    """Where the password of a whole URL value is: from the first ':' after a known `scheme://`
    (or from the first ':' at all) to the last '@'. None when there is no ':' before an '@'."""
    at = url.rfind("@")
    if at < 0:
        return None
    scheme = _KNOWN_SCHEME.match(url)
    colon = url.find(":", scheme.end() if scheme else 0, at)
    return (colon + 1, at) if colon >= 0 else None


def redact_url(url: str) -> str:
    """A URL value (well-formed or not) safe to show: any password replaced by ***."""
    span = _password_span(url)
    if span:
        url = f"{url[:span[0]]}***{url[span[1]:]}"
    return redact(url)


def redact(text: str) -> str:
    """Replace every password we know of, or can recognise, with `***`.

    Known secrets go first: a rule that cut into one would leave the rest of it unrecognisable.
    """
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _KV_PASSWORD.sub(lambda m: f"{m['head']}***", text)
    text = _URLLIB_QUOTED.sub(lambda m: f"{m['head']}'***'", text)
    text = _TOKEN_PASSWORD.sub(lambda m: f"{m['head']}***@" if m["pw"] else m[0], text)
    return "".join(map(_redact_url_line, text.splitlines(keepends=True)))


def _redact_url_line(line: str) -> str:
    """From the first `scheme://user:` to the line's last '@' (a regex doing this backtracks from
    every URL on a long line: quadratic)."""
    at = line.rfind("@")
    head = _URL_HEAD.search(line, 0, at) if at > 0 else None
    return f"{line[:head.end()]}***{line[at:]}" if head and head.end() < at else line


class RedactingFilter(logging.Filter):
    """Logging filter that redacts every record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True
