"""--redis-url: the URL forms LiteLLM's deployments use, read without touching Redis.

A node (`redis://`, `rediss://`, `unix://`), a cluster (`redis+cluster://`, LiteLLM's
`redis_startup_nodes`) or sentinels (`redis+sentinel://`, LiteLLM's `sentinel_nodes`,
`service_name`, `sentinel_password`). Whatever is wrong is exit 2 naming --redis-url, the password
hidden, before anything is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from litellm_dbctl.cache.client import RedisTarget, parse_url
from litellm_dbctl.common import redaction
from litellm_dbctl.common.errors import InvalidInput

SECRET = "pw-S3cret"


@pytest.mark.parametrize(
    ("url", "mode", "label", "nodes"),
    [
        ("redis://cache:6380/2", "node", "cache:6380", ()),
        ("redis://cache", "node", "cache:6379", ()),
        (f"redis://:{SECRET}@cache", "node", "cache:6379", ()),  # a password alone (the default user)
        (f"rediss://proxy:{SECRET}@cache:6380?ssl_ca_certs=/etc/ca.pem", "node", "cache:6380", ()),
        ("REDIS://[::1]:6380", "node", "[::1]:6380", ()),
        (f"unix://:{SECRET}@/run/redis/redis.sock?db=3", "node", "/run/redis/redis.sock", ()),
        ("redis+cluster://a:7000", "cluster", "a:7000", ()),
        (f"rediss+cluster://:{SECRET}@a:7000,b,[::1]:7002", "cluster", "a:7000", (("b", 6379), ("::1", 7002))),
        ("redis+sentinel://s1,s2:26380/mymaster/4", "sentinel", "mymaster (sentinels s1:26379, s2:26380)",
         (("s1", 26379), ("s2", 26380))),
    ],
)
def test_each_form_is_read(url: str, mode: str, label: str, nodes: tuple) -> None:
    target = parse_url(url)
    assert (target.mode, target.label, target.nodes) == (mode, label, nodes)
    assert SECRET not in repr(target)


def test_the_cluster_and_sentinel_urls_become_one_node_url_for_redis_py() -> None:
    cluster = parse_url(f"rediss+cluster://u:{SECRET}@a:7000,b:7001?ssl_cert_reqs=none")
    assert cluster.url == f"rediss://u:{SECRET}@a:7000?ssl_cert_reqs=none"
    sentinel = parse_url(f"redis+sentinel://:{SECRET}@s1:26379,s2/mymaster/4?sentinel_password=sentinel-pw"
                         "&socket_timeout=2")
    assert sentinel == RedisTarget("sentinel", f"redis://:{SECRET}@s1:26379/4?socket_timeout=2",
                                   "mymaster (sentinels s1:26379, s2:26379)", (("s1", 26379), ("s2", 26379)),
                                   "mymaster", "sentinel-pw")
    assert "sentinel-pw" not in repr(sentinel)
    assert redaction.redact("AUTH sentinel-pw") == "AUTH ***"  # registered as a secret, like the URL's password


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"http://:{SECRET}@cache", "not a redis:// or rediss:// or unix:// or redis+cluster://"),
        (f"redis//:{SECRET}@cache", "not a redis://"),
        (f"redis://:{SECRET}@cache:port", "the port is not a number"),
        (f"redis://admin:{SECRET}/x@127.0.0.1:6379", "an '@' after the host"),
        (f"redis://:{SECRET}@cache/zero", "the database (after the host) is not a number"),
        (f"redis://:{SECRET}@cache?socket_timeout=soon", "Invalid value for 'socket_timeout'"),
        (f"redis://:{SECRET}@cache?timeout_seconds=5", "unknown option 'timeout_seconds'"),
        (f"redis://:{SECRET}@cache?ssl_ca_certs=/ca.pem", "ssl_ca_certs is a TLS option: use a rediss:// URL"),
        (f"redis://:{SECRET}@cache?sentinel_password=x", "unknown option 'sentinel_password'"),
        (f"unix://:{SECRET}@", "a unix:// URL names the socket's path"),
        (f"redis+cluster://:{SECRET}@a:7000,b:70o1", "the port is not a number"),
        (f"redis+cluster://:{SECRET}@a:7000,,b", "an empty host in the host list"),
        (f"redis+cluster://:{SECRET}@a:7000/1", "a Redis Cluster has only database 0"),
        (f"redis+sentinel://:{SECRET}@s1:26379", "names the service after the sentinels"),
        (f"redis+sentinel://:{SECRET}@s1:26379/mymaster/x", "the database (after the host) is not a number"),
    ],
)
def test_a_malformed_url_is_refused_naming_the_problem_and_hiding_the_password(url: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_url(url)
    message = caught.value.message
    assert message.startswith("--redis-url: ") and problem in message, message
    assert SECRET not in message and message.endswith(redaction.redact_url(url)), message


def test_a_malformed_cluster_url_is_exit_2_before_anything_is_written(cli, db) -> None:
    result = cli("team", "provision", "--team-id", "t1", "--redis-url", f"redis+cluster://:{SECRET}@a:7000,b:x")
    assert result.code == 2, result
    assert "--redis-url" in result.stderr and "port" in result.stderr and SECRET not in result.stdout + result.stderr
    assert db.value('SELECT count(*) FROM "LiteLLM_TeamTable"') == 0


def test_redis_py_is_imported_only_when_redis_is_used() -> None:
    """redis-py costs ~0.2 s of start-up: a command without --redis-url, or its --help, never pays it."""
    code = ("import sys\nimport litellm_dbctl.budget.sync, litellm_dbctl.cache.invalidate, litellm_dbctl.cli.provision\n"
            "from litellm_dbctl.__main__ import main\n"
            "try:\n    main(['budget', 'sync', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('REDIS=' + ','.join(m for m in sys.modules if m.split('.')[0] == 'redis'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip().splitlines()[-1] == "REDIS="
