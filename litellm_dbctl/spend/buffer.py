"""What waits in LiteLLM's Redis buffers, and which pod holds each cron-job lock: read-only.

When spend "does not show up", it may sit in the lists pods push to and the lock holder drains
(spend/buffer_entries.py says what each holds). This reads them without taking anything: LLEN,
then LRANGE in chunks of `CHUNK` entries (a list of 100k parked spend logs is never loaded whole),
never a POP. The lock holder pops from the head while pods push at the tail, so a list read in
several chunks may shift under the read: the length is read again at the end and a change is said
(`changed`); a list read in one LRANGE is one snapshot.

Keys carry LiteLLM's Redis namespace when one is set (`cache_params.namespace`, or `namespace` in
`general_settings.coordination_redis`): RedisCache.check_and_fix_namespace prefixes `<ns>:` to the
buffers and to `cronjob_lock:<job>` alike (`caching/redis_cache.py:832-840`). A lock's value is the
holder's pod id, JSON-encoded by async_set_cache (`"3f2a..."`); dbctl's own leases are plain text.

`waiting` gives counter repair (budget/repair.py) the spend still on its way to the counters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litellm_dbctl.cache.client import Client, session
from litellm_dbctl.common import clock
from litellm_dbctl.spend.buffer_entries import BUFFERS, Buffer, Kind, ParkedLog, Tally, tally

CHUNK = 500  # entries per LRANGE: a parked spend-log row can be tens of kB
LOCK_PATTERN = "cronjob_lock:*"
SCAN_COUNT = 1000
# How the oldest entry's time is known, per buffer kind (None: its entries carry no time).
AGE_BASIS: Mapping[Kind, str | None] = {
    "counters": None, "daily": "date (at least: the end of that UTC day)", "window": "started_at",
    "spend_logs": "startTime", "tools": None, "gateway": "date (at least: the end of that UTC day)",
    "gateway_legacy": "date (at least: the end of that UTC day)",
    "errors": "date (at least: the end of that UTC day)",
}


@dataclass(frozen=True)
class EntitySpend:
    entity_type: str
    spend: float
    entities: int  # distinct ids


@dataclass(frozen=True)
class BufferReport:
    """One buffer: `key` as found in Redis (with the namespace), `name` LiteLLM's constant's value."""

    name: str
    key: str
    kind: str
    job: str | None
    entries: int  # LLEN when the read began
    read: int  # entries read (differs from `entries` when the list changed meanwhile)
    undecodable: int
    requests: int | None  # requests / calls / rows the entries count (None: this kind counts none)
    spend: tuple[EntitySpend, ...]
    oldest: datetime | None  # aware UTC
    age_seconds: float | None  # None: empty, or its entries carry no time
    age_basis: str | None
    changed: bool  # LLEN at the end differed from the start: figures are approximate


@dataclass(frozen=True)
class LockReport:
    key: str
    job: str
    holder: str | None  # the pod id (None: gone while read)
    ttl_seconds: float | None  # None: no expiry (or gone)


@dataclass(frozen=True)
class BufferState:
    read_at: datetime
    namespace: str | None
    buffers: tuple[BufferReport, ...]
    locks: tuple[LockReport, ...]

    def older_than(self, seconds: float) -> list[BufferReport]:
        return [b for b in self.buffers if b.age_seconds is not None and b.age_seconds > seconds]


@dataclass(frozen=True)
class Waiting:
    """Spend on its way to the entity counters: `increments` pushed to litellm_spend_update_buffer
    and not applied ((entity type, id) -> spend), and `parked` spend-log rows not yet in
    LiteLLM_SpendLogs (those whose counters go through a 1.110 outbox delivery left out)."""

    increments: Mapping[tuple[str, str], float]
    parked: tuple[ParkedLog, ...]

    def entities(self) -> set[tuple[str, str]]:
        return set(self.increments) | {e for log in self.parked for e in log.entities}


def prefix(namespace: str | None) -> str:
    return f"{namespace}:" if namespace else ""


def read(redis_url: str, namespace: str | None = None, *, now: datetime | None = None,
         chunk: int = CHUNK) -> BufferState:
    """Every LiteLLM buffer and cron-job lock in the Redis `redis_url` names (RedisError when it
    cannot be reached or fails)."""
    with session(redis_url) as client:
        moment = clock.utc_aware(now) if now else clock.now()
        buffers = tuple(_report(client, spec, namespace, moment, chunk) for spec in BUFFERS)
        return BufferState(moment, namespace, buffers, _locks(client, namespace))


def waiting(redis_url: str, namespace: str | None = None, *, chunk: int = CHUNK) -> Waiting:
    """What counter repair must count as on its way: the counters' buffer and the parked spend logs."""
    wanted = {spec.kind: spec for spec in BUFFERS if spec.kind in ("counters", "spend_logs")}
    with session(redis_url) as client:
        counters, _, _ = _tally(client, wanted["counters"], namespace, chunk)
        logs, _, _ = _tally(client, wanted["spend_logs"], namespace, chunk)
    increments = {(kind, entity_id): amount for kind, ids in counters.spend.items() for entity_id, amount in ids.items()}
    return Waiting(increments, tuple(log for log in logs.parked if not log.accounted))


def _tally(client: Client, spec: Buffer, namespace: str | None, chunk: int) -> tuple[Tally, int, bool]:
    """The buffer's entries read in chunks: (what they carry, LLEN at the start, LLEN changed)."""
    key = (prefix(namespace) + spec.key).encode()
    into = Tally()
    length = int(client.llen(key))
    for start in range(0, length, chunk):
        entries = client.lrange(key, start, min(start + chunk, length) - 1)
        for raw in entries:
            tally(spec.kind, raw, into, spec.entity)
        if len(entries) < min(chunk, length - start):  # drained meanwhile: the rest is gone
            break
    changed = int(client.llen(key)) != length
    return into, length, changed


def _report(client: Client, spec: Buffer, namespace: str | None, now: datetime, chunk: int) -> BufferReport:
    into, length, changed = _tally(client, spec, namespace, chunk)
    spend = tuple(EntitySpend(kind, sum(ids.values()), len(ids)) for kind, ids in into.spend.items())
    counts = spec.kind not in ("counters", "window")
    age = max(0.0, (now - into.oldest).total_seconds()) if into.oldest is not None else None
    return BufferReport(spec.key, prefix(namespace) + spec.key, spec.kind, spec.job, length, into.entries,
                        into.undecodable, into.requests if counts else None, spend, into.oldest, age,
                        AGE_BASIS[spec.kind], changed)


def _locks(client: Client, namespace: str | None) -> tuple[LockReport, ...]:
    """Every `cronjob_lock:*` key: its holder and time to live."""
    head = prefix(namespace).encode()
    found = []
    for key in sorted(set(client.scan_iter(match=_glob_escape(head) + LOCK_PATTERN.encode(), count=SCAN_COUNT))):
        value = client.get(key)
        ttl = int(client.pttl(key))
        job = key[len(head):].decode("utf-8", "replace").removeprefix("cronjob_lock:")
        found.append(LockReport(key.decode("utf-8", "replace"), job, holder(value),
                                ttl / 1000 if ttl >= 0 else None))
    return tuple(found)


def holder(value: bytes | None) -> str | None:
    """A lock's value as the pod id: LiteLLM stores it JSON-encoded (`"<uuid>"`), dbctl plain."""
    if value is None:
        return None
    text = value.decode("utf-8", "replace")
    try:
        decoded: Any = json.loads(text)
    except ValueError:
        return text
    return decoded if isinstance(decoded, str) else text


def _glob_escape(text: bytes) -> bytes:
    """`text` matched literally by a Redis glob pattern (a namespace may hold `*?[]\\`)."""
    for char in (b"\\", b"*", b"?", b"[", b"]"):
        text = text.replace(char, b"\\" + char)
    return text
