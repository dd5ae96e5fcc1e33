"""`budget sync --redis-url` against each deployment LiteLLM supports (see fix_redis_servers).

A password alone, a unix socket, TLS, a cluster (keys on every node: the single-node client failed
on the first MOVED), sentinels naming the master; and one SCAN of the keyspace per run, however
many entities were reset (it was one per entity).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import fix_budget as fx
import pytest
import redis
from fix_redis_servers import Servers, certificates, client, free_port, needs_openssl, needs_server
from fix_redis_servers import cluster as start_cluster
from helpers import Database

from litellm_dbctl.cache import invalidate as cache

NOW = "2026-06-10T12:00:00Z"
PASSWORD = "master-Pw9"
SENTINEL_PASSWORD = "sentinel-Pw9"

pytestmark = needs_server


@pytest.fixture
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    started = Servers(tmp_path_factory.mktemp("redis"))
    yield started
    started.stop()


def reset_keys(db: Database, count: int) -> dict[str, str]:
    """`count` keys whose windows are due, and the Redis keys LiteLLM keeps for each (value: a spend)."""
    cached = {}
    for number in range(count):
        token = f"tok{number}"
        fx.key(db, token, spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
        cached.update({token: "{}", f"spend:key:{token}": "5", f"spend:key:{token}:window:1d": "5"})
    return cached


def sync(cli, url: str) -> dict:
    result = cli("budget", "sync", "--now", NOW, "--redis-url", url, "--json")
    assert result.code == 0, result
    assert PASSWORD not in result.stdout + result.stderr and SENTINEL_PASSWORD not in result.stdout + result.stderr
    return result.json()


def test_a_password_alone_and_a_unix_socket(cli, db: Database, servers: Servers) -> None:
    socket_path = servers.directory / "redis.sock"
    port = servers.start("--requirepass", PASSWORD, "--unixsocket", str(socket_path), "--unixsocketperm", "700")
    cached = reset_keys(db, 2)
    with client(port, password=PASSWORD) as node:
        node.mset({**cached, "untouched": "1"})
        assert sync(cli, f"redis://:{PASSWORD}@127.0.0.1:{port}")["redis"]["deleted"] == len(cached)
        assert node.keys() == ["untouched"]
        fx.key(db, "tok9", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
        node.set("spend:key:tok9", "5")
        assert sync(cli, f"unix://:{PASSWORD}@{socket_path}")["redis"]["deleted"] == 1
        assert node.keys() == ["untouched"]


def test_a_wrong_password_is_refused_before_anything_is_written(cli, db: Database, servers: Servers) -> None:
    port = servers.start("--requirepass", PASSWORD)
    reset_keys(db, 1)
    result = cli("budget", "sync", "--now", NOW, "--redis-url", f"redis://:wrong-{PASSWORD}@127.0.0.1:{port}")
    assert result.code == 1, result  # the reset-job lease is taken first: no lease, no reset
    assert f"cannot connect to Redis at 127.0.0.1:{port}" in result.stderr, result
    assert PASSWORD not in result.stderr
    assert fx.spend(db, "LiteLLM_VerificationToken", "token", "tok0") == 5.0


@needs_openssl
def test_tls(cli, db: Database, servers: Servers) -> None:
    ca, cert, key = certificates(servers.directory)
    port = free_port()
    servers.start("--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                  "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no", port=port)
    cached = reset_keys(db, 1)
    with client(port, ssl=True, ssl_ca_certs=str(ca)) as tls:
        tls.mset(cached)
        assert sync(cli, f"rediss://127.0.0.1:{port}?ssl_ca_certs={ca}")["redis"]["deleted"] == len(cached)
        assert tls.keys() == []


@pytest.mark.slow
def test_a_cluster_with_keys_on_every_node(cli, db: Database, servers: Servers) -> None:
    ports = start_cluster(servers)
    cached = reset_keys(db, 30)
    with client(ports[-1]) as last, last.pubsub() as listener:
        listener.subscribe(f"ns:{cache.CHANNEL}")
        assert listener.get_message(timeout=10)["type"] == "subscribe"
        with redis.RedisCluster(host="127.0.0.1", port=ports[0], decode_responses=True) as whole:
            for name, value in {**cached, "untouched": "1"}.items():
                whole.set(f"ns:{name}", value)
            assert {whole.keyslot(f"ns:{name}") * 3 // 16384 for name in cached} == {0, 1, 2}  # on every node
            result = cli("budget", "sync", "--now", NOW, "--redis-url", f"redis+cluster://127.0.0.1:{ports[1]}",
                         "--redis-namespace", "ns", "--json")
            assert result.code == 0, result
            assert result.json()["redis"]["deleted"] == len(cached)
            assert [name for name in cached if whole.exists(f"ns:{name}")] == []
            assert whole.get("ns:untouched") == "1"
            assert whole.get("ns:cronjob_lock:reset_budget_job") is None  # the lease, released
        heard = set()
        while (message := listener.get_message(timeout=5)) is not None:
            heard.add(json.loads(message["data"])["cache_key"])
        assert heard == set(cached)  # a subscriber of any node hears them


def test_sentinels_name_the_master(cli, db: Database, servers: Servers) -> None:
    master = servers.start("--requirepass", PASSWORD)
    sentinel = servers.start("--sentinel", config=f"requirepass {SENTINEL_PASSWORD}\n"
                                                  f"sentinel monitor mymaster 127.0.0.1 {master} 1\n"
                                                  f"sentinel auth-pass mymaster {PASSWORD}\n")
    cached = reset_keys(db, 2)
    with client(master, password=PASSWORD) as node:
        node.mset(cached)
        url = (f"redis+sentinel://:{PASSWORD}@127.0.0.1:1,127.0.0.1:{sentinel}/mymaster"  # the first sentinel is down
               f"?sentinel_password={SENTINEL_PASSWORD}")
        assert sync(cli, url)["redis"]["deleted"] == len(cached)
        assert node.keys() == []


def test_one_scan_per_run_whatever_the_number_of_entities(cli, db: Database, servers: Servers) -> None:
    port = servers.start()
    cached = reset_keys(db, 40)
    with client(port) as node:
        node.mset({**cached, **{f"other:{n}": "1" for n in range(500)}})
        node.config_resetstat()
        assert sync(cli, f"redis://127.0.0.1:{port}")["redis"]["deleted"] == len(cached)
        stats = node.info("commandstats")
        assert stats["cmdstat_scan"]["calls"] == 1, stats  # it was one per entity with windows: 40
        assert stats["cmdstat_del"]["calls"] == 2, stats  # one for the batch, one in the lease's release script
        assert stats["cmdstat_publish"]["calls"] == len(cached), stats
        assert node.dbsize() == 500


def test_glob_characters_in_ids_and_the_namespace_match_only_themselves(cli, db: Database, servers: Servers) -> None:
    """A reset team `t*` drops its own window counters, not those of team t1 (a SCAN pattern built
    from the id matched both, and dropping a live counter undercounts that team's budget)."""
    port = servers.start()
    fx.team(db, "t*", spend=5.0, budget_duration="1d", budget_reset_at=fx.PAST)
    fx.team(db, "t1", spend=5.0, budget_duration="1d", budget_reset_at=fx.FUTURE)
    namespace = "ns[1]*"
    with client(port) as node:
        node.mset({f"{namespace}:spend:team:t*:window:1d": "5", f"{namespace}:spend:team:t1:window:1d": "5",
                   "ns1x:spend:team:t*:window:1d": "5"})  # another namespace the pattern `ns[1]*` matches
        result = cli("budget", "sync", "--now", NOW, "--redis-url", f"redis://127.0.0.1:{port}",
                     "--redis-namespace", namespace, "--json")
        assert result.code == 0, result
        assert sorted(node.keys()) == ["ns1x:spend:team:t*:window:1d", f"{namespace}:spend:team:t1:window:1d"]
