"""Virtual keys as LiteLLM stores them (litellm-database.md §4.1): the token is the SHA-256 hex of
the raw key, and `key_name` is `sk-...` plus its last four characters.

The raw key exists only in a `CreatedKey` the caller shows once; nothing here logs or stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litellm_dbctl.common.keyrefs import hash_key, key_name

MIN_CUSTOM_KEY_LENGTH = 16  # LiteLLM's MINIMUM_CUSTOM_KEY_LENGTH


@dataclass(frozen=True)
class CreatedKey:
    key_alias: str | None
    token: str
    key_name: str
    raw: str = field(repr=False)  # shown to the operator once, never stored, logged or re-read


def custom_key_problem(raw: str) -> str | None:
    """Why LiteLLM refuses `raw` as a caller-chosen key, or None."""
    if not raw.startswith("sk-") or len(raw) < MIN_CUSTOM_KEY_LENGTH:
        return f"a custom key must start with 'sk-' and be at least {MIN_CUSTOM_KEY_LENGTH} characters"
    return None


def new_raw_key() -> str:
    import secrets  # here: most runs create no key, and secrets costs ~3 ms to import

    return "sk-" + secrets.token_urlsafe(16)


def make_key(raw: str | None, alias: str | None) -> CreatedKey:
    """A new key: the caller's raw key or a fresh `sk-` + token_urlsafe(16), as /key/generate makes it."""
    value = raw or new_raw_key()
    return CreatedKey(alias, hash_key(value), key_name(value), value)


def value_taken(holder: Mapping[str, Any]) -> str:
    """Why a chosen raw key cannot be created: the key already holding it, by alias or token prefix
    (never the raw key or its whole hash)."""
    name = f"alias {holder['key_alias']!r}" if holder.get("key_alias") else f"token {holder['token'][:12]}…"
    return f"a key with this value already exists ({name})"
