"""Where the database is: URL precedence, Prisma's URL parameters, and libpq's reading of the rest.

Precedence: --database-url or --embedded > DBCTL_DATABASE_URL (`embedded` names the embedded
server) > DATABASE_URL (LiteLLM's own) > the embedded server, only with a person at a terminal.
Migrations and locks prefer DIRECT_URL (LiteLLM's way past a pooler) when the URL came from
the environment. LiteLLM's DATABASE_URL is a Prisma URL: `schema` becomes the search_path,
`pgbouncer=true` turns off server-side prepared statements, other Prisma-only parameters are dropped.
What remains is read by libpq's own parser (`psycopg.conninfo`), so every form libpq knows works:
socket directories (`?host=/var/run/postgresql`), several hosts (`h1:5432,h2:5433`) and `key=value`
connection strings. Passwords are registered for redaction before anything else reads the text.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote, urlencode, urlsplit

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.common.redaction import redact_url, register_secret, register_secret_url

log = logging.getLogger("dbctl")

# Parameters libpq understands (PostgreSQL 17 docs, "Parameter Key Words"); anything else in a URL
# is Prisma's (connection_limit, pool_timeout, socket_timeout, statement_cache_size, sslaccept, ...).
LIBPQ_PARAMS = frozenset([
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth", "channel_binding",
    "connect_timeout", "client_encoding", "options", "application_name", "fallback_application_name", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication", "gssencmode",
    "sslmode", "sslnegotiation", "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode",
    "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service", "target_session_attrs",
    "load_balance_hosts",
])
SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
SCHEMES = ("postgresql", "postgres")
_CONNINFO = re.compile(r"\s*[A-Za-z_]+\s*=")  # `host=... dbname=...`: libpq's other form
_PORT = re.compile(r"[0-9]{1,5}")
_LIBPQ_PROBLEMS = {  # the start of libpq's message (PQconninfoParse) -> ours
    "invalid percent-encoded token": "a '%' not followed by two hex digits; write % as %25",
    "forbidden value %00": "%00 in a value",
    "end of string reached when looking for matching": "an IPv6 address without its closing ']'",
    "IPv6 host address may not be empty": "an empty IPv6 address",
    "unexpected character": "an unexpected character after a host",
    "extra key/value separator": "a query parameter with two '='",
    "missing key/value separator": "a query parameter without '='",
    "invalid connection option": "an unknown parameter",
    'missing "=" after': "a word without '=' (quote a value that holds spaces)",
    "unterminated quoted string": "an unterminated quoted value",
}


@dataclass(frozen=True)
class Target:
    """A resolved database: a libpq URL plus what Prisma's parameters asked for."""

    url: str = field(repr=False)  # holds the password: never print it, use `redacted`; "" = embedded
    source: str  # which setting it came from: "--database-url", "DATABASE_URL", "embedded", ...
    schema: str | None = None
    pgbouncer: bool = False
    embedded_dir: Path | None = None
    # Which LiteLLM the database belongs to, when the operator says (db/release.py): a release line,
    # and the option or variable that named it; and whether a database newer than dbctl knows is allowed.
    litellm_version: str | None = None
    litellm_version_source: str | None = None
    allow_newer_schema: bool = False

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
    """A Prisma-style URL (or a libpq `key=value` string) as a Target. Raises InvalidInput, whose
    message names `source` and never holds the password."""
    register_secret_url(url)
    text = url.strip()
    if _CONNINFO.match(text):
        params = _libpq(text, source, None)
        schema, pgbouncer = None, False
    else:
        parts = _split(text, source, SCHEMES)
        shown = redact_url(text)
        if parts.netloc.count("@") > 1:  # libpq ends the password at the first '@', urllib at the last
            raise InvalidInput(f"{source}: malformed URL (the user name or password holds a raw '@', and libpq "
                               f"would end the password at the first one; percent-encode it: write @ as %40): {shown}")
        query, schema, pgbouncer = _prisma_parameters(parts.query, source)
        head = text.split("#", 1)[0].split("?", 1)[0]  # a fragment is no part of a Prisma URL either
        params = _libpq(f"{head}?{query}" if query else head, source, shown)
    for name in ("password", "sslpassword"):
        register_secret(params.get(name, ""))
    return Target(_url(params), source, schema, pgbouncer)


def _prisma_parameters(query: str, source: str) -> tuple[str, str | None, bool]:
    """The query string with Prisma's parameters taken out, and the two dbctl obeys: schema and
    pgbouncer. The libpq parameters are passed on as written (libpq decodes them itself)."""
    schema: str | None = None
    pgbouncer = False
    kept: list[str] = []
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        key, value = unquote(key), unquote(value)
        if key == "schema":
            if not SCHEMA_NAME.match(value):
                raise InvalidInput(f"{source}: invalid schema name in ?schema=: {value!r}")
            schema = value
        elif key == "pgbouncer":
            pgbouncer = value.lower() in ("true", "1", "yes")
        elif key in LIBPQ_PARAMS:
            kept.append(pair)
        else:
            log.debug("%s: dropping Prisma-only URL parameter %s", source, key)
    return "&".join(kept), schema, pgbouncer


def _libpq(conninfo: str, source: str, shown: str | None) -> dict[str, str]:
    """libpq's reading of a URL (`shown`: it, redacted) or of a key=value string, checked for a
    host and numeric ports. libpq's messages quote what they could not read: those quotes go."""
    import psycopg  # (~110 ms) only once a URL is read, not for --help
    from psycopg.conninfo import conninfo_to_dict

    what = "malformed URL" if shown is not None else "malformed connection string"
    tail = f": {shown}" if shown is not None else ""
    try:
        params = {key: str(value) for key, value in conninfo_to_dict(conninfo).items()}
    except psycopg.ProgrammingError as exc:
        raise InvalidInput(f"{source}: {what} ({_libpq_problem(exc)}){tail}") from None
    except UnicodeDecodeError:  # libpq decoded a %-escape to bytes that are not UTF-8 (`%80`)
        raise InvalidInput(f"{source}: {what} (a %-escape is not UTF-8 text){tail}") from None
    if not ({"host", "hostaddr", "service"} & params.keys()):
        raise InvalidInput(f"{source}: the {'URL' if shown is not None else 'connection string'} names no host{tail}")
    if not all(port == "" or (_PORT.fullmatch(port) and int(port) <= 65535) for port in params.get("port", "").split(",")):
        raise InvalidInput(f"{source}: {what} (the port is not a number from 0 to 65535){tail}")
    return params


def _libpq_problem(exc: BaseException) -> str:
    """What libpq could not read, in words of our own: libpq's message quotes a piece of the
    string, maybe of the password."""
    text = str(exc)
    return next((problem for start, problem in _LIBPQ_PROBLEMS.items() if text.startswith(start)), "libpq cannot read it")


def _url(params: Mapping[str, str]) -> str:
    """The libpq URL that reads back as `params`: user, password, hosts and database in their
    places (so urllib, and people, can read it), the rest in the query string. A socket directory
    is a host, percent-encoded; several hosts keep their ports in the query string (urllib reads
    one port). What would not read back (an empty host, ...) goes whole into the query string."""
    from psycopg.conninfo import conninfo_to_dict

    rest = dict(params)
    user, password = rest.pop("user", None), rest.pop("password", None)
    userinfo = ""
    if user is not None or password is not None:
        userinfo = quote(user or "", safe="") + (f":{quote(password, safe='')}" if password is not None else "") + "@"
    hosts = rest.pop("host").split(",") if "host" in rest else []
    ports = rest["port"].split(",") if "port" in rest else []
    if len(hosts) == 1 and ":" in hosts[0]:
        netloc = f"[{quote(hosts[0], safe=':')}]"  # IPv6, bracketed as urllib reads it
    else:  # urllib misreads a list of bracketed hosts: percent-encoded, libpq reads them alike
        netloc = ",".join(quote(host, safe="") for host in hosts)
    if len(hosts) == 1 and len(ports) == 1 and ports[0]:
        netloc += f":{rest.pop('port')}"
    path = "/" + quote(rest.pop("dbname"), safe="") if "dbname" in rest else "/"
    query = f"?{urlencode(rest, quote_via=quote, safe=',/')}" if rest else ""
    url = f"postgresql://{userinfo}{netloc}{path}{query}"
    if conninfo_to_dict(url) != params:
        url = f"postgresql://?{urlencode(params, quote_via=quote, safe=',/')}"
    return url


def split_url(url: str, source: str, schemes: tuple[str, ...]) -> SplitResult:
    """`urlsplit` for a URL the user gave, with its password registered for redaction first, and
    its port checked. Raises InvalidInput, never urllib's ValueError (whose text quotes the misread
    port)."""
    register_secret_url(url)
    parts = _split(url.strip(), source, schemes)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidInput(f"{source}: malformed URL (the port is not a number from 0 to 65535): "
                           f"{redact_url(url.strip())}") from None
    return parts


def _split(value: str, source: str, schemes: tuple[str, ...]) -> SplitResult:
    """`urlsplit`, refusing what it would misread. A password with a raw '@', '/', '?' or '#' makes
    urllib misread the URL (the host becomes part of the path, the password's tail a port): such
    URLs are refused, and every message names `source` and shows the URL with everything that could
    be the password replaced by ***."""
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
    return parts
