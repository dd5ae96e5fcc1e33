"""Where the database is: URL precedence, Prisma's URL parameters, and password redaction.

Precedence: --database-url > DBCTL_DATABASE_URL > DATABASE_URL (LiteLLM's own) > the embedded
default. Migrations and locks prefer DIRECT_URL (LiteLLM's way past a pooler) when the URL came from
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
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from litellm_dbctl.errors import InvalidInput

log = logging.getLogger("dbctl")

# Parameters libpq understands (PostgreSQL 17 docs, "Parameter Key Words"); anything else in a URL
# is Prisma's (connection_limit, pool_timeout, socket_timeout, statement_cache_size, sslaccept, ...).
LIBPQ_PARAMS = frozenset(
    """host hostaddr port dbname user password passfile require_auth channel_binding connect_timeout
    client_encoding options application_name fallback_application_name keepalives keepalives_idle
    keepalives_interval keepalives_count tcp_user_timeout replication gssencmode sslmode
    sslnegotiation requiressl sslcompression sslcert sslkey sslpassword sslcertmode sslrootcert sslcrl
    sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname gsslib
    gssdelegation service target_session_attrs load_balance_hosts""".split()
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


def resolve(
    url: str | None = None,
    *,
    direct: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """The database to use. `direct=True` (migrations, locks) prefers DIRECT_URL for env URLs."""
    env = os.environ if environ is None else environ
    if url:
        return parse(url, "--database-url")
    for name in ("DBCTL_DATABASE_URL", "DATABASE_URL"):
        value = env.get(name)
        if value:
            target = parse(value, name)
            direct_url = env.get("DIRECT_URL")
            if direct and direct_url:
                via = parse(direct_url, "DIRECT_URL")
                if via.schema is None and target.schema is not None:
                    via = Target(via.url, via.source, target.schema, via.pgbouncer)
                return via
            return target
    from litellm_dbctl import embedded

    return Target("", "embedded", embedded_dir=embedded.data_dir(env))


def parse(url: str, source: str) -> Target:
    """Split a Prisma-style URL into a libpq URL and the Prisma parameters. Raises InvalidInput."""
    register_secret_url(url)
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidInput(f"{source}: malformed database URL ({exc}): {redact_url(url)}") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise InvalidInput(
            f"{source}: not a PostgreSQL URL (expected postgresql://...): {redact_url(url)}"
        )
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


# -- redaction ----------------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)(?P<pw>[^@/\s]*)(?P<at>@)", re.I)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_secrets: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember a secret so `redact` removes it wherever it shows up (messages, tracebacks, logs)."""
    if secret and len(secret) >= 3:
        _secrets.add(secret)
        _secrets.add(quote(secret, safe=""))


def register_secret_url(url: str) -> None:
    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        match = _URL_PASSWORD.search(url)
        password = match.group("pw") if match else None
    if password:
        register_secret(unquote(password))
        register_secret(password)


def redact_url(url: str) -> str:
    return redact(url)


def redact(text: str) -> str:
    """Replace every password we know of, or can recognise, with `***`."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}***{m['at']}" if m["pw"] else m[0], text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['head']}***", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """Logging filter that redacts every record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True
