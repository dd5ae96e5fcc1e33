"""Telling live proxies about a direct database change, through their Redis.

LiteLLM serves keys, users, teams and spend counters from caches (litellm-database.md §6): a
lowered spend is not seen while the Redis counter `spend:<entity>:<id>` exists, and objects live up
to 60 s per worker. After a change dbctl deletes the Redis keys (the cached objects; after a change
of spend also the counters with their `:window:*` variants) and publishes on
`litellm_proxy.auth_cache_invalidation` so every worker drops its in-memory copy. The window
counters are found by one SCAN of the keyspace per run, whatever the number of entities, and the
deletes and messages go in pipelined batches: one round trip per batch, not per key.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from litellm_dbctl.cache.client import Client, RedisError, delete_and_publish, session
from litellm_dbctl.common.errors import LockBusy
from litellm_dbctl.db import database

__all__ = ["CHANNEL", "DEFAULT_OBJECT_TTL_SECONDS", "EntityRef", "Invalidation", "Lease", "RedisError", "cache_keys",
           "invalidate"]

CHANNEL = "litellm_proxy.auth_cache_invalidation"
DEFAULT_OBJECT_TTL_SECONDS = 60  # LiteLLM's default user_api_key_cache_ttl: how long stale objects live
BATCH = 1000  # keys deleted and published per pipelined round trip
SCAN_COUNT = 1000  # keys the server looks at per SCAN call
WINDOW = b":window:"


class EntityRef(NamedTuple):
    """An object whose cached copies must go: kind is key|user|team|org|end_user|tag|team_member|
    project|model_access_group. A named tuple: a plan makes one per changed membership."""

    kind: str
    id: str
    team_id: str | None = None  # for team_member: the team (id is the user)
    aliases: tuple[str, ...] = ()  # for team: team_alias values it was or is cached under

    @classmethod
    def team(cls, team_id: str, *aliases: str | None) -> EntityRef:
        """A team with its aliases, old and new: LiteLLM also caches it as `team_alias:{alias}`
        (§6), and after a rename the old alias must stop resolving to it."""
        return cls("team", team_id, aliases=tuple(dict.fromkeys(a for a in aliases if a)))


def cache_keys(ref: EntityRef) -> tuple[list[str], list[str], list[str]]:
    """(object cache keys, counter keys, counter patterns) LiteLLM uses for an entity (§2.2, §6). A
    pattern is a literal head and `*` (the period of a window counter), matched as such, not as a glob."""
    if ref.kind == "key":
        return [ref.id], [f"spend:key:{ref.id}"], [f"spend:key:{ref.id}:window:*"]
    if ref.kind == "user":
        return [ref.id], [f"spend:user:{ref.id}"], []
    if ref.kind == "team":
        return ([f"team_id:{ref.id}", *(f"team_alias:{alias}" for alias in ref.aliases)], [f"spend:team:{ref.id}"],
                [f"spend:team:{ref.id}:window:*"])
    if ref.kind == "org":
        return [], [f"spend:org:{ref.id}"], []
    if ref.kind == "end_user":
        return [f"end_user_id:{ref.id}"], [f"spend:end_user:{ref.id}"], []
    if ref.kind == "tag":
        return [f"tag:{ref.id}"], [f"spend:tag:{ref.id}"], []
    if ref.kind == "project":
        return [f"project_id:{ref.id}"], [f"spend:project:{ref.id}"], []
    if ref.kind == "model_access_group":
        return [], [f"spend:model_access_group:{ref.id}"], []
    if ref.kind == "team_member":
        team = ref.team_id or ""
        return ([f"{team}_{ref.id}", f"team_membership:{ref.id}:{team}"],
                [f"spend:team_member:{ref.id}:{team}"], [])
    raise ValueError(f"unknown entity kind {ref.kind!r}")


@dataclass(frozen=True)
class Invalidation:
    deleted: int  # Redis keys removed
    published: int  # invalidation messages sent
    receivers: int  # subscribers that got them (summed over messages)


def invalidate(redis_url: str, refs: Iterable[EntityRef], *, namespace: str | None = None,
               counters: bool) -> Invalidation:
    """Delete the entities' Redis keys and publish an invalidation for each, as LiteLLM does.

    `counters=True` also drops the spend counters: only for a change of spend (a reset), as
    LiteLLM's reset job does. `counters=False` drops only the cached objects (a changed limit, a
    provisioning update): the counters hold increments the database may not have yet. No default:
    dropping them by mistake undercounts budgets."""
    keys: dict[bytes, None] = {}  # unprefixed, in order, once each
    windows: set[bytes] = set()  # `spend:<kind>:<id>:window:` heads whose counters go too
    for ref in refs:
        objects, spend_counters, patterns = cache_keys(ref)
        keys.update(dict.fromkeys(k.encode() for k in (objects + spend_counters if counters else objects)))
        if counters:
            windows.update(p.removesuffix("*").encode() for p in patterns)
    if not keys and not windows:
        return Invalidation(0, 0, 0)
    prefix = f"{namespace}:".encode() if namespace else b""
    with session(redis_url) as redis:
        if windows:
            keys.update(dict.fromkeys(_window_keys(redis, prefix, windows)))
        return _drop(redis, prefix, list(keys))


def _window_keys(redis: Client, prefix: bytes, heads: set[bytes]) -> list[bytes]:
    """The window counters (`spend:<kind>:<id>:window:<period>`) of the entities whose heads are
    given, unprefixed: one SCAN for all of them, matched here (an id may hold glob characters)."""
    found = []
    for key in redis.scan_iter(match=_glob_escape(prefix) + b"spend:*:window:*", count=SCAN_COUNT):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        at = name.find(WINDOW)
        while at != -1 and name[:at + len(WINDOW)] not in heads:
            at = name.find(WINDOW, at + 1)
        if at != -1:
            found.append(name)
    return found


def _glob_escape(text: bytes) -> bytes:
    """`text` matched literally by a Redis glob pattern (a namespace may hold `*?[]\\`)."""
    for char in (b"\\", b"*", b"?", b"[", b"]"):
        text = text.replace(char, b"\\" + char)
    return text


def _drop(redis: Client, prefix: bytes, keys: list[bytes]) -> Invalidation:
    """Delete the keys and publish one invalidation each, a batch per round trip: DEL before
    PUBLISH, since a worker told to drop its copy must not find the old one still in Redis."""
    channel = prefix + CHANNEL.encode()
    deleted = published = receivers = 0
    for start in range(0, len(keys), BATCH):
        chunk = keys[start:start + BATCH]
        messages = [json.dumps({"cache_key": key.decode("utf-8", "replace")}) for key in chunk]
        gone, heard = delete_and_publish(redis, [prefix + key for key in chunk], channel, messages)
        deleted, published, receivers = deleted + gone, published + len(chunk), receivers + heard
    return Invalidation(deleted, published, receivers)


# Compare-and-delete: release a lease only while it still holds our token (LiteLLM's PodLockManager
# does GET then DEL; one script closes the gap between them). Compare-and-expire renews it likewise.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) else return 0 end"


class Lease:
    """A Redis lease shaped like LiteLLM's cron-job locks (`SET key <holder> NX EX ttl`).

    Holding `cronjob_lock:reset_budget_job` makes every proxy pod skip its budget reset tick, since
    each one only runs it when its own SET NX succeeds (litellm-database.md §3.1). The TTL is short
    and a daemon thread renews it every third of it while the lease is held, so a run that dies
    (kill -9, a lost pod) blocks the proxies' resets for at most `ttl` seconds.
    """

    def __init__(self, redis_url: str, key: str, *, ttl: int, namespace: str | None = None) -> None:
        self.redis_url = redis_url
        self.key = f"{namespace}:{key}" if namespace else key
        self.ttl = ttl
        self.holder = f"dbctl-{uuid.uuid4()}"
        self.held = False
        self.lost: str | None = None  # why renewing stopped while held (Redis failed, or the lease expired)
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, *, timeout: float, what: str) -> None:
        """Poll (`database.poll`) up to `timeout` seconds; raise LockBusy naming the holder when it stays
        taken. Once held, it is renewed until `release`."""
        with session(self.redis_url) as redis:
            if not database.poll(lambda: bool(redis.set(self.key, self.holder, nx=True, ex=self.ttl)),
                                 timeout=timeout):
                holder = redis.get(self.key)
                shown = holder.decode("utf-8", "replace") if holder is not None else None
                raise LockBusy(f"{what}: Redis lease {self.key} is held by {shown}; gave up after {timeout:g} s",
                               hint="a proxy is running its budget reset job; retry later or raise --lock-timeout")
        self.held = True
        self._renewer = threading.Thread(target=self._renew, name="dbctl-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        """Extend the TTL every ttl/3 seconds while it still holds our token."""
        try:
            with session(self.redis_url) as redis:
                while not self._stop.wait(self.ttl / 3):
                    if not redis.eval(_RENEW, 1, self.key, self.holder, str(self.ttl)):
                        self.lost = "it expired or was taken"
                        return
        except RedisError as exc:
            self.lost = exc.message

    def release(self) -> None:
        if not self.held:
            return
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with session(self.redis_url) as redis:
            redis.eval(_RELEASE, 1, self.key, self.holder)
        self.held = False
