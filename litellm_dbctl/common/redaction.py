"""Passwords never shown: every message, log line and traceback dbctl prints goes through `redact`.

A password in a URL runs from the first ':' of the user-info to the LAST '@' (a password may hold
'@', ':', '/', spaces...). In running text (messages, logs, tracebacks) two shapes are recognised:
`scheme://user:` up to the last '@' on the line (unless a space follows the ':', as in "(expected
redis://...): x"), and a scheme-less token `user:pw@host` up to its last '@' (`postgres:pw@h`,
`postgresql:/u:pw@h`, `postgresql//u:pw@h`, `:pw@h`); a token whose ':' is followed by '//' is a
scheme, left to the first shape. libpq's `password=...` (quoted or not) is recognised too.
`redact_url`, given a whole URL value, also covers passwords with spaces in scheme-less shapes; a
URL dbctl parsed has its password registered besides, and registered secrets are removed wherever
they show up.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

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
