"""Key references as LiteLLM reads them, with no I/O: a raw key is a secret, so dbctl hashes it
(LiteLLM's stored token is the SHA-256 hex of the raw key) before any query and never echoes it.
Shared by every command that takes a key: provisioning, `key ...` and `spend --key`."""

from __future__ import annotations

import hashlib


def hash_key(raw: str) -> str:
    """LiteLLM's stored token: lowercase hex SHA-256 of the UTF-8 raw key, `sk-` included."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def key_name(raw: str) -> str:
    """LiteLLM's display name for a key: `sk-...` plus its last four characters."""
    return "sk-..." + raw[-4:] if len(raw) >= 16 else "sk-..."


def is_raw_key(ref: str) -> bool:
    """Whether `ref` is a raw key (`sk-...`, LiteLLM's prefix), a secret: not a key_name, which
    LiteLLM writes as `sk-...` and the last four characters."""
    return ref.startswith("sk-") and not ref.startswith("sk-...")


def describe_key(ref: str) -> str:
    """A key reference fit for a message: a raw key is never echoed (its last four characters are
    what LiteLLM's key_name shows anyway)."""
    return f"{ref[:3]}…{ref[-4:]}" if is_raw_key(ref) else repr(ref)
