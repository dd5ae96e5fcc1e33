"""Telling live proxies about a direct database change, through their Redis.

LiteLLM serves keys, users, teams and spend counters from caches (litellm-database.md §6): a
lowered spend is not seen while the Redis counter `spend:<entity>:<id>` exists, and objects live up
to 60 s per worker. After a change dbctl deletes the Redis keys (the cached objects; after a change
of spend also the counters with their `:window:*` variants) and publishes on
`litellm_proxy.auth_cache_invalidation` so every worker drops its in-memory copy. The client is a
few lines of RESP over a socket: DEL, SCAN and PUBLISH need no dependency.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

from litellm_dbctl.common.errors import OperationalError
from litellm_dbctl.db.config import split_url

CHANNEL = "litellm_proxy.auth_cache_invalidation"
DEFAULT_OBJECT_TTL_SECONDS = 60  # LiteLLM's default user_api_key_cache_ttl: how long stale objects live


class RedisError(OperationalError):
    pass


class Redis:
    """A minimal synchronous Redis client: enough for AUTH, SELECT, DEL, SCAN, PUBLISH, SUBSCRIBE."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = split_url(url, "--redis-url", ("redis", "rediss"))  # exit 2 on a malformed URL, password hidden
        host, port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.label = f"{host}:{port}"
        import socket  # here: most commands never talk to Redis

        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            if parts.scheme == "rediss":
                import ssl

                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except OSError as exc:
            raise RedisError(f"cannot connect to Redis at {self.label}: {exc.strerror or exc}") from None
        self.sock = sock
        self.buffer = sock.makefile("rb")
        if parts.password:
            user = unquote(parts.username) if parts.username else None
            self.command("AUTH", *([user] if user else []), unquote(parts.password))
        db = parts.path.strip("/")
        if db:
            self.command("SELECT", db)

    def close(self) -> None:
        try:
            self.buffer.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> Redis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, *args: str | bytes | int) -> None:
        out = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        try:
            self.sock.sendall(b"".join(out))
        except OSError as exc:
            raise RedisError(f"Redis at {self.label}: {exc}") from None

    def command(self, *args: str | bytes | int) -> object:
        self.send(*args)
        return self.read()

    def read(self) -> object:
        line = self._receive(self.buffer.readline)
        if not line:
            raise RedisError(f"Redis at {self.label} closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(f"Redis at {self.label}: {rest.decode()}")
        if kind in (b":", b"$", b"*") and rest.lstrip(b"-").isdigit():
            number = int(rest)
            if kind == b":":
                return number
            if number < 0:
                return None
            if kind == b"*":
                return [self.read() for _ in range(number)]
            data = self._receive(lambda: self.buffer.read(number + 2))[:-2]
            return data.decode("utf-8", "replace")
        raise RedisError(f"Redis at {self.label}: unexpected reply {line[:20]!r}")

    def _receive(self, read: Callable[[], bytes]) -> bytes:
        """A socket error mid-reply (a timeout, a reset) is a RedisError like any other, so a caller
        that reports Redis failures after a commit catches it too."""
        try:
            return read()
        except OSError as exc:
            raise RedisError(f"Redis at {self.label}: {exc}") from None

    def scan(self, pattern: str) -> list[str]:
        cursor, found = "0", []
        while True:
            reply = self.command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            cursor, keys = reply  # type: ignore[misc]
            found.extend(keys)
            if cursor == "0":
                return found


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
    """(object cache keys, counter keys, counter patterns) LiteLLM uses for an entity (§2.2, §6)."""
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
               extra_keys: Sequence[str] = (), counters: bool) -> Invalidation:
    """Delete the entities' Redis keys and publish an invalidation for each, as LiteLLM does.

    `counters=True` also drops the spend counters: only for a change of spend (a reset), as
    LiteLLM's reset job does. `counters=False` drops only the cached objects (a changed limit, a
    provisioning update): the counters hold increments the database may not have yet. No default:
    dropping them by mistake undercounts budgets."""
    prefix = f"{namespace}:" if namespace else ""
    keys: list[str] = list(extra_keys)
    patterns: list[str] = []
    for ref in refs:
        objects, spend_counters, windows = cache_keys(ref)
        keys.extend(objects + spend_counters if counters else objects)
        patterns.extend(windows if counters else [])
    keys = list(dict.fromkeys(keys))
    if not keys and not patterns:
        return Invalidation(0, 0, 0)
    deleted = published = receivers = 0
    with Redis(redis_url) as redis:
        window_keys = [k[len(prefix):] for p in patterns for k in redis.scan(prefix + p)]
        all_keys = list(dict.fromkeys(keys + window_keys))
        for start in range(0, len(all_keys), 500):
            chunk = all_keys[start:start + 500]
            deleted += int(redis.command("DEL", *(prefix + k for k in chunk)))  # type: ignore[arg-type]
        for key in all_keys:
            receivers += int(redis.command("PUBLISH", prefix + CHANNEL, json.dumps({"cache_key": key})))  # type: ignore[arg-type]
            published += 1
    return Invalidation(deleted, published, receivers)


# Compare-and-delete: release a lease only while it still holds our token (LiteLLM's PodLockManager
# does GET then DEL; one script closes the gap between them).
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


class Lease:
    """A Redis lease shaped like LiteLLM's cron-job locks (`SET key <holder> NX EX ttl`).

    Holding `cronjob_lock:reset_budget_job` makes every proxy pod skip its budget reset tick, since
    each one only runs it when its own SET NX succeeds (litellm-database.md §3.1).
    """

    def __init__(self, redis_url: str, key: str, *, ttl: int, namespace: str | None = None) -> None:
        import uuid

        self.redis_url = redis_url
        self.key = f"{namespace}:{key}" if namespace else key
        self.ttl = ttl
        self.holder = f"dbctl-{uuid.uuid4()}"
        self.held = False

    def acquire(self, *, timeout: float, what: str) -> None:
        """Poll up to `timeout` seconds; raise LockBusy naming the holder when it stays taken."""
        import random
        import time

        from litellm_dbctl.common.errors import LockBusy

        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.05
        with Redis(self.redis_url) as redis:
            while redis.command("SET", self.key, self.holder, "NX", "EX", self.ttl) != "OK":
                if time.monotonic() >= deadline:
                    holder = redis.command("GET", self.key)
                    raise LockBusy(f"{what}: Redis lease {self.key} is held by {holder}; gave up after {timeout:g} s",
                                   hint="a proxy is running its budget reset job; retry later or raise --lock-timeout")
                time.sleep(min(delay * random.uniform(0.5, 1.5), max(deadline - time.monotonic(), 0.01)))
                delay = min(delay * 2, 1.0)
        self.held = True

    def release(self) -> None:
        if not self.held:
            return
        with Redis(self.redis_url) as redis:
            redis.command("EVAL", _RELEASE, 1, self.key, self.holder)
        self.held = False
