"""The proxies' Redis, opened with redis-py in the deployments LiteLLM supports.

LiteLLM reaches Redis through a URL (`redis://`, `rediss://` for TLS, `unix://` for a socket, read
by redis-py), a Redis Cluster (`redis_startup_nodes` / `REDIS_CLUSTER_NODES`) or Sentinel
(`sentinel_nodes`, `service_name`, `sentinel_password`). dbctl takes each as one URL:

    redis://[[user]:password@]host[:port][/db]      rediss://... (TLS)
    unix://[[user]:password@]/path/to/redis.sock[?db=N]
    redis+cluster://[[user]:password@]host:port[,host:port...]               rediss+cluster://...
    redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]
                                                                             rediss+sentinel://...

A query may carry redis-py's connection options (`socket_timeout`, `ssl_ca_certs`, `ssl_cert_reqs`...).
The URL is checked whole before anything is written (exit 2, password hidden): a typo found only
after the commit would leave the proxies' caches stale. redis-py is imported only here and only
when Redis is used: it costs about 0.2 s of start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from litellm_dbctl.common.errors import InvalidInput, OperationalError
from litellm_dbctl.common.redaction import redact_url, register_secret, register_secret_url
from litellm_dbctl.db.config import split_url

SOURCE = "--redis-url"
SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel")
TIMEOUT_SECONDS = 5.0  # connect and reply timeout unless the URL sets socket_(connect_)timeout
# redis-py's connection options a URL may set; any other name would fail only when connecting,
# after the commit. sentinel_password is dbctl's (LiteLLM's name), for redis+sentinel only.
OPTIONS = frozenset({
    "db", "protocol", "client_name", "socket_timeout", "socket_connect_timeout", "socket_keepalive",
    "health_check_interval", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile", "ssl_keyfile",
    "ssl_password", "ssl_check_hostname", "ssl_min_version", "ssl_ciphers",
})


class RedisError(OperationalError):
    pass


@dataclass(frozen=True)
class RedisTarget:
    """A checked Redis URL: how to reach the deployment, no I/O done yet."""

    mode: Literal["node", "cluster", "sentinel"]
    url: str = field(repr=False)  # one node (cluster: the first; sentinel: the master's options) as redis-py reads it
    label: str  # where, for messages: host:port, a socket path, or the service and its sentinels
    nodes: tuple[tuple[str, int], ...] = ()  # cluster: the other startup nodes; sentinel: every sentinel
    service_name: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)


def parse_url(url: str, source: str = SOURCE) -> RedisTarget:
    """Check `url` whole (scheme, hosts, ports, db, options and their values); InvalidInput
    (exit 2) naming `source` with the password hidden when anything is wrong."""
    register_secret_url(url)
    value = url.strip()
    shown = redact_url(value)
    head, sep, _ = value.partition("://")
    scheme = head.lower() if sep else ""
    if scheme not in SCHEMES:
        raise InvalidInput(f"{source}: not a {' or '.join(f'{s}://' for s in SCHEMES)} URL: {shown}")
    base, _, mode = scheme.partition("+")
    if not mode:
        parts = split_url(value, source, (scheme,))
        nodes: list[tuple[str, int]] = []
        if scheme == "unix" and parts.path in ("", "/"):
            raise InvalidInput(f"{source}: a unix:// URL names the socket's path (unix:///run/redis.sock): {shown}")
        one, path = value, parts.path
    else:
        parts = urlsplit(value)
        nodes = _nodes(parts, base, 26379 if mode == "sentinel" else 6379, source, shown)
        path = parts.path
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name, option in options.items():
        if name not in OPTIONS and not (mode == "sentinel" and name == "sentinel_password"):
            raise InvalidInput(f"{source}: unknown option {name!r} (known: {', '.join(sorted(OPTIONS))}): {shown}")
        if name.endswith("password"):
            register_secret(option)
        if name.startswith("ssl_") and base != "rediss":
            raise InvalidInput(f"{source}: {name} is a TLS option: use a rediss:// URL: {shown}")
    service_name = None
    if mode == "sentinel":
        service_name, _, path = path.lstrip("/").partition("/")
        if not service_name:
            raise InvalidInput(f"{source}: a redis+sentinel:// URL names the service after the sentinels "
                               f"(redis+sentinel://host:26379/mymaster): {shown}")
    db = "" if scheme == "unix" else path.strip("/")  # a socket's database is in the query (?db=N)
    if db and not db.isdigit():
        raise InvalidInput(f"{source}: the database (after the host) is not a number: {shown}")
    if mode == "cluster" and int(db or options.get("db") or 0) != 0:
        raise InvalidInput(f"{source}: a Redis Cluster has only database 0: {shown}")
    if mode:  # one node's URL for redis-py: the first host, the database, the options but ours
        query = urlencode([(k, v) for k, v in options.items() if k != "sentinel_password"])
        userinfo = parts.netloc.rpartition("@")[0]
        host, port = nodes[0]
        netloc = f"{userinfo}@{_host_port(host, port)}" if userinfo else _host_port(host, port)
        one = urlunsplit((base, netloc, f"/{db}" if db else "", query, ""))
    _check_options(one, source, shown)
    if mode == "cluster":
        return RedisTarget("cluster", one, _host_port(*nodes[0]), tuple(nodes[1:]))
    if mode == "sentinel":
        label = f"{service_name} (sentinels {', '.join(_host_port(*node) for node in nodes)})"
        return RedisTarget("sentinel", one, label, tuple(nodes),
                           service_name, options.get("sentinel_password") or None)
    label = parts.path if scheme == "unix" else _host_port(parts.hostname or "127.0.0.1", parts.port or 6379)
    return RedisTarget("node", one, label)


def _nodes(parts: SplitResult, base: str, default_port: int, source: str, shown: str) -> list[tuple[str, int]]:
    """The hosts of a multi-host URL (`a:7000,b,[::1]:7002`), each checked as a URL of its own."""
    userinfo, at, hosts = parts.netloc.rpartition("@")
    nodes = []
    for item in hosts.split(","):
        one = urlunsplit((base, f"{userinfo}{at}{item}", "", parts.query, parts.fragment))
        try:
            node = split_url(one, source, (base,))
        except InvalidInput as exc:  # show the URL as given, not the one node cut from it
            raise InvalidInput(exc.message.replace(redact_url(one), shown)) from None
        if not node.hostname:
            raise InvalidInput(f"{source}: an empty host in the host list: {shown}")
        nodes.append((node.hostname, node.port or default_port))
    return nodes


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _check_options(url: str, source: str, shown: str) -> None:
    """redis-py's own reading of a node URL: the options' values checked as it will use them."""
    from redis import connection  # here: redis-py costs ~0.2 s of start-up, and only Redis users pay it

    try:
        _untyped(connection.parse_url)(url)
    except ValueError as exc:
        raise InvalidInput(f"{source}: {exc}: {shown}") from None


class Pipeline(Protocol):
    """The part of a redis-py pipeline dbctl uses (typed here once: redis-py's annotations and the
    types-redis stubs disagree)."""

    def delete(self, *names: bytes) -> object: ...
    def publish(self, channel: bytes, message: str) -> object: ...
    def execute(self) -> list[Any]: ...


class Client(Protocol):
    """The part of a redis-py client (Redis, RedisCluster, a Sentinel's master) dbctl uses."""

    def ping(self) -> object: ...
    def close(self) -> None: ...
    def scan_iter(self, match: bytes, count: int) -> Iterator[bytes]: ...
    def pipeline(self, transaction: bool) -> Pipeline: ...
    def set(self, name: str, value: str, *, nx: bool, ex: int) -> object: ...
    def get(self, name: str | bytes) -> bytes | None: ...
    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object: ...
    def llen(self, name: bytes) -> int: ...
    def lrange(self, name: bytes, start: int, end: int) -> list[bytes]: ...
    def pttl(self, name: bytes) -> int: ...


@contextmanager
def session(url: str) -> Iterator[Client]:
    """A client of the deployment `url` names, connected (or RedisError saying why not). Every
    failure inside the block (refused, reset, timed out, an error reply, a garbled reply) is a
    RedisError, so a caller reporting Redis failures after a commit catches them all."""
    target = parse_url(url)
    from redis.exceptions import RedisClusterException
    from redis.exceptions import RedisError as Failure  # here: see _check_options

    connecting = True
    try:
        with ExitStack() as opened:
            client = _client(target, opened)
            if target.mode != "cluster":  # a cluster client connected already, to read the slot map
                client.ping()
            connecting = False
            yield client
    except (Failure, RedisClusterException, ValueError) as exc:
        raise RedisError(_describe(exc, target.label, connecting=connecting)) from None


def delete_and_publish(client: Client, keys: list[bytes], channel: bytes, messages: list[str]) -> tuple[int, int]:
    """DEL `keys`, then PUBLISH `messages` on `channel`, pipelined; (keys deleted, receivers).

    One round trip on a single Redis. A cluster pipeline refuses PUBLISH and a DEL across slots:
    there the DELs go one per key, grouped per node by redis-py (which follows MOVED), then the
    messages to one node, which relays them to the whole cluster."""
    from redis.cluster import RedisCluster  # here: see _check_options

    if isinstance(client, RedisCluster):
        cluster: Any = client  # redis-py's annotations and the types-redis stubs disagree on its pipeline
        pipe = cluster.pipeline()
        for key in keys:
            pipe.delete(key)
        deleted = sum(pipe.execute())
        pipe = cluster.get_redis_connection(cluster.get_default_node()).pipeline(transaction=False)
        for message in messages:
            pipe.publish(channel, message)
        return deleted, sum(pipe.execute())
    pipe = client.pipeline(transaction=False)
    pipe.delete(*keys)
    for message in messages:
        pipe.publish(channel, message)
    deleted, *receivers = pipe.execute()
    return int(deleted), sum(receivers)


def _client(target: RedisTarget, opened: ExitStack) -> Client:
    """A client of `target` (redis-py connects on its first command), closed with `opened`."""
    from redis import connection  # here: see _check_options
    from redis.backoff import NoBackoff
    from redis.client import Redis
    from redis.cluster import ClusterNode, RedisCluster
    from redis.retry import Retry
    from redis.sentinel import Sentinel

    timeout = TIMEOUT_SECONDS  # unless the URL sets socket_timeout / socket_connect_timeout (it wins)
    if target.mode == "cluster":  # redis-py's own retries: they follow a failover or a resharding
        nodes = [_untyped(ClusterNode)(host, port) for host, port in target.nodes]
        cluster = cast(Client, RedisCluster(url=target.url, startup_nodes=nodes, socket_timeout=timeout,
                                            socket_connect_timeout=timeout))
        opened.callback(cluster.close)
        return cluster
    # No silent retries: a failure is reported at once, with what it left stale.
    once = Retry(NoBackoff(), 0)
    if target.mode == "node":
        node = cast(Client, Redis.from_url(target.url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           retry=once))
        opened.callback(node.close)
        return node
    master: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": once,
                              **_untyped(connection.parse_url)(target.url)}
    for name in ("host", "port"):
        master.pop(name, None)
    tls = master.pop("connection_class", None) is not None  # rediss+sentinel: master and sentinels speak TLS
    # The sentinels' password is LiteLLM's sentinel_password, also the master's when the URL has none.
    master["password"] = master.get("password") or target.sentinel_password
    guards = {k: v for k, v in master.items() if k.startswith(("socket_", "ssl_"))}
    if target.sentinel_password:
        guards["password"] = target.sentinel_password
    sentinel = Sentinel(list(target.nodes), sentinel_kwargs={**guards, "ssl": tls} if tls else guards)
    for asked in sentinel.sentinels:
        opened.callback(asked.close)
    primary = cast(Client, sentinel.master_for(target.service_name or "", ssl=tls, **master))
    opened.callback(primary.close)
    return primary


def _untyped(function: Any) -> Any:
    """A redis-py callable its own annotations leave untyped (the types-redis stubs type it): for strict mypy."""
    return function


def _describe(exc: BaseException, label: str, *, connecting: bool = False) -> str:
    """One line for a redis-py failure, as the RESP client said it before: where, then why."""
    from redis import exceptions  # here: see _check_options
    from redis.sentinel import MasterNotFoundError

    if isinstance(exc, MasterNotFoundError):  # its text goes on with the repr of every sentinel client
        return f"cannot connect to Redis at {label}: {str(exc).split(' : ', 1)[0]}"
    if isinstance(exc, (ValueError, exceptions.InvalidResponse)):
        return f"Redis at {label}: unexpected reply ({exc})"
    if connecting and isinstance(exc, (exceptions.ConnectionError, exceptions.TimeoutError,
                                       exceptions.RedisClusterException)):
        return f"cannot connect to Redis at {label}: {_reason(exc)}"
    if isinstance(exc, exceptions.NoPermissionError):  # redis-py drops the error code; operators grep for it
        return f"Redis at {label}: NOPERM {exc}"
    return f"Redis at {label}: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    """The socket's own words (`Connection refused`) where redis-py wrapped an OSError."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(exc) or type(exc).__name__
