"""Private redis-server processes on loopback ports: a password, a unix socket, TLS, a cluster, sentinels.

Each deployment LiteLLM supports is the real thing here (a cluster's MOVED, a TLS handshake, a
sentinel naming the master), started by the test that needs it and stopped after it; skipped
where the machine has no redis-server binary (or, for TLS, no openssl).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

SERVER = shutil.which("redis-server")
OPENSSL = shutil.which("openssl")
needs_server = pytest.mark.skipif(SERVER is None, reason="no redis-server binary")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl binary to make TLS certificates")
SLOTS = 16384


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Servers:
    """The redis-server processes a test started: each on a fresh loopback port, all stopped after it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, port: int | None = None, config: str | None = None) -> int:
        """A redis-server with `args` (or `config`, a file's text, e.g. a sentinel's); its port once it listens."""
        port = port or free_port()
        if config is not None:  # a sentinel rewrites its file, and takes no server options
            path = self.directory / f"redis-{port}.conf"
            path.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n{config}")
            command = [str(SERVER), str(path), *args]
        else:
            command = [str(SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--dir", str(self.directory), *args]
        log = open(self.directory / f"redis-{port}.log", "wb")  # noqa: SIM115 - the process writes it until stopped
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        log.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                if time.monotonic() > deadline or self.processes[-1].poll() is not None:
                    raise RuntimeError(f"redis-server {command} did not start: "
                                       f"{(self.directory / f'redis-{port}.log').read_text()[-2000:]}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def client(port: int, **options: object) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=10, **options)


def cluster(servers: Servers, nodes: int = 3) -> list[int]:
    """A Redis Cluster of `nodes` primaries, the slots split evenly; its ports once every node says ok."""
    # Each node's bus port is chosen free too: the default, port + 10000, may be taken or past 65535
    # for an ephemeral port, and the node then fails to join ("connection refused" mid-test).
    buses = [free_port() for _ in range(nodes)]
    ports = [servers.start("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{n}-{time.monotonic_ns()}.conf",
                           "--cluster-node-timeout", "5000", "--cluster-port", str(bus)) for n, bus in enumerate(buses)]
    for number, port in enumerate(ports):
        with client(port) as node:
            node.execute_command("CLUSTER", "ADDSLOTSRANGE", SLOTS * number // nodes, SLOTS * (number + 1) // nodes - 1)
            if number:
                node.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0], buses[0])
    deadline = time.monotonic() + 20
    for port in ports:
        with client(port) as node:
            while "cluster_state:ok" not in node.execute_command("CLUSTER", "INFO") or \
                    len(node.execute_command("CLUSTER", "SLOTS")) < nodes:
                assert time.monotonic() < deadline, "the cluster did not form"
                time.sleep(0.05)
    return ports


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key), made with openssl."""
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, request = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n")
    for args in (["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
                  "-subj", "/CN=dbctl test CA"],
                 ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
                 ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
                  "-days", "2", "-extfile", extensions]):
        subprocess.run([str(OPENSSL), *map(str, args)], check=True, capture_output=True)
    return ca, cert, key
