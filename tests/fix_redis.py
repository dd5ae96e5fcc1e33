"""The machine's Redis for the tests: a namespace per test, and users denied some commands.

Each test uses its own namespace and ACL users, so it never touches another test's (or anyone's) keys.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

REDIS = "redis://127.0.0.1:6379"
PASSWORD = "s3cret-Pw"  # the denied users' password: never in any output


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")


def plain(url: str = REDIS) -> redis.Redis:
    """A client of the test's own (replies as str), to set up and look at keys."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=10)


class Subscriber:
    """A proxy worker's view: every message on the invalidation channel."""

    def __init__(self, channel: str) -> None:
        self.redis = plain()
        self.pubsub = self.redis.pubsub()
        self.pubsub.subscribe(channel)
        assert self.pubsub.get_message(timeout=10)["type"] == "subscribe"  # subscribed from here on
        self.messages: list[dict] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.stop.is_set():
            message = self.pubsub.get_message(timeout=0.05)
            if message is not None and message["type"] == "message":
                self.messages.append(json.loads(message["data"]))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.pubsub.close()
        self.redis.close()


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"dbctl-test-{uuid.uuid4().hex[:8]}"
    yield name
    with plain() as client:
        keys = list(client.scan_iter(f"{name}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def redis_without() -> Iterator[Callable[..., str]]:
    """A Redis URL for a user denied some commands: Redis failing part-way, as an outage would."""
    users: list[str] = []

    def make(*denied: str) -> str:
        name = f"dbctl-test-{uuid.uuid4().hex[:8]}"
        with plain() as client:
            client.execute_command("ACL", "SETUSER", name, "on", f">{PASSWORD}", "~*", "&*", "+@all",
                                   *(f"-{d}" for d in denied))
        users.append(name)
        return f"redis://{name}:{PASSWORD}@127.0.0.1:6379"

    yield make
    with plain() as client:
        for name in users:
            client.execute_command("ACL", "DELUSER", name)
