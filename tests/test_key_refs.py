"""A raw key given where a key is looked up is hashed before any query: it never reaches the server
(where `log_statement` would log it as a parameter) and is never printed, even with -v/-vv.

What reaches the server is read in-process, at psycopg's cursor: every statement and its
parameters, for every connection dbctl opens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from litellm_dbctl.common import keyrefs

RAW = "sk-RawSecretValue-0123456789"
TOKEN = hashlib.sha256(RAW.encode()).hexdigest()
RAW_ALIAS = "sk-an-alias-that-looks-raw-42"  # an alias a raw key's rule would hash: found all the same


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every statement and its parameters sent from now on."""
    texts: list[str] = []

    def recorder(name: str) -> Callable[..., Any]:
        original = getattr(psycopg.Cursor, name)

        def recording(self: psycopg.Cursor, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            texts.append(f"{query!r} {params!r}")
            return original(self, query, params, *args, **kwargs)

        return recording

    for name in ("execute", "executemany", "stream", "copy"):
        monkeypatch.setattr(psycopg.Cursor, name, recorder(name))
    return texts


@pytest.fixture
def keys(cli) -> None:
    assert cli("user", "provision", "--user-id", "admin", "--role", "proxy_admin").code == 0
    assert cli("key", "create", "--user", "admin", "--alias", "k1", "--key-stdin", input=RAW + "\n").code == 0
    assert cli("key", "create", "--user", "admin", "--alias", RAW_ALIAS).code == 0


def test_raw_key_detection() -> None:
    assert keyrefs.is_raw_key(RAW) and not keyrefs.is_raw_key("sk-...6789") and not keyrefs.is_raw_key(TOKEN)
    assert keyrefs.describe_key(RAW) == "sk-…6789"


LOOKUPS = [
    ("key", "block", RAW),
    ("key", "unblock", RAW),
    ("key", "delete", "--dry-run", RAW),
    ("spend", "summary", "--since", "all", "--key", RAW),
    ("spend", "top", "--by", "model", "--since", "all", "--key", RAW),
    ("spend", "daily", "--since", "7d", "--key", RAW),
    ("spend", "logs", "--since", "all", "--key", RAW),
]


@pytest.mark.parametrize("args", LOOKUPS, ids=lambda a: " ".join(a[:2]))
def test_a_raw_key_is_hashed_before_any_query_and_never_printed(cli, keys, sent, args) -> None:
    for options in ([], ["-v"], ["-vv"], ["--json"]):
        sent.clear()
        result = cli(*options, *args)
        assert result.code in (0, 3), result
        assert any(TOKEN in text for text in sent), "the look-up went by the hash"
        assert not [text for text in sent if RAW in text]
        assert RAW not in result.stdout + result.stderr


@pytest.mark.parametrize("args", [("key", "block"), ("key", "delete"), ("spend", "summary", "--since", "all", "--key"),
                                  ("spend", "logs", "--key")], ids=lambda a: " ".join(a[:2]))
def test_an_unknown_raw_key_is_named_by_its_last_characters_only(cli, keys, sent, args) -> None:
    unknown = "sk-UnknownSecret-abcdefWXYZ"
    for options in ([], ["-v"], ["-vv"]):
        result = cli(*options, *args, unknown)
        assert result.code == 2 and "sk-…WXYZ" in result.stderr, result
        assert unknown not in result.stdout + result.stderr
    assert not [text for text in sent if unknown in text]


def test_a_raw_key_deletes_its_key(cli, keys, db, sent) -> None:
    assert cli("-vv", "key", "delete", RAW).code == 0
    assert db.value('SELECT count(*) FROM "LiteLLM_DeletedVerificationToken" WHERE token = %s', (TOKEN,)) == 1
    assert not [text for text in sent if RAW in text]


@pytest.mark.parametrize("ref", ["k1", TOKEN, TOKEN.upper(), TOKEN[:8], TOKEN[:20].upper(), RAW])
def test_every_form_of_reference_names_the_key(cli, keys, db, ref) -> None:
    assert cli("key", "block", ref).code == 0
    assert db.value('SELECT blocked FROM "LiteLLM_VerificationToken" WHERE token = %s', (TOKEN,)) is True
    assert cli("key", "unblock", ref).code == 0
    summary = cli("--json", "spend", "summary", "--since", "all", "--key", ref)
    assert summary.code == 0, summary
    assert [label["id"] for labels in summary.json()["filters"]["key"].values() for label in labels] == [TOKEN]


def test_an_alias_that_looks_like_a_raw_key_is_found_without_being_sent(cli, keys, db, sent) -> None:
    assert cli("key", "block", RAW_ALIAS).code == 0, "found by the alias's hash"
    summary = cli("--json", "spend", "summary", "--since", "all", "--key", RAW_ALIAS)
    assert summary.code == 0 and list(summary.json()["filters"]["key"]) == ["sk-…w-42"], summary
    assert not [text for text in sent if RAW_ALIAS in text]
    assert db.value('SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = %s', (RAW_ALIAS,)) is True
