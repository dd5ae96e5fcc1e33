"""Private redis-server processes on loopback ports: a password, a unix socket, TLS, a cluster, sentinels.

Each deployment LiteLLM supports is the real thing here (a cluster's MOVED, a TLS handshake, a
sentinel naming the master), started by the test that needs it and stopped after it; skipped
where the machine has no redis-server binary (or, for TLS, no openssl).
"""

from __future__ import annotations

import contextlib
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


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports: the probes are held open together, so no port repeats."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_port() -> int:
    return free_ports(1)[0]


class PortTaken(RuntimeError):
    """A port chosen free was taken before redis-server bound it (another process's ephemeral port)."""


class Servers:
    """The redis-server processes a test started: each on a fresh loopback port, all stopped after it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, port: int | None = None, config: str | None = None) -> int:
        """A redis-server with `args` (or `config`, a file's text, e.g. a sentinel's); its port once it listens.

        Without `port`, a free one, chosen again if another process takes it before the server binds it.
        """
        if port is None:
            for _ in range(4):
                with contextlib.suppress(PortTaken):
                    return self.start(*args, port=free_port(), config=config)
            port = free_port()
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
                    log_text = (self.directory / f"redis-{port}.log").read_text()
                    if "Address already in use" in log_text:
                        raise PortTaken(f"redis-server could not bind: {log_text[-500:]}") from None
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
    # for an ephemeral port, and the node then fails to join ("connection refused" mid-test). The two
    # ports are chosen together (so they differ), and chosen again if another process took one first.
    ports: list[int] = []
    buses: list[int] = []
    for number in range(nodes):
        for attempt in range(5):
            port, bus = free_ports(2)
            try:
                servers.start("--cluster-enabled", "yes", "--cluster-config-file",
                              f"nodes-{number}-{time.monotonic_ns()}.conf", "--cluster-node-timeout", "5000",
                              "--cluster-port", str(bus), port=port)
                break
            except PortTaken:
                if attempt == 4:
                    raise
        ports.append(port)
        buses.append(bus)
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
