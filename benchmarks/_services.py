"""Private PostgreSQL and Redis servers, a fresh database on the shared server, and small-disk folders.

The machine's own PostgreSQL (5432) and Redis (6379) are shared with other people's tests: fault
runs never stop or fill them. They start their own servers here, on free loopback ports, in
temporary folders that are deleted afterwards. PostgreSQL refuses to run as root, so when this
runs as root the server runs as the ``postgres`` user (``runuser -u postgres --``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PrivatePostgres",
    "PrivateRedis",
    "ServiceMissing",
    "SmallDisk",
    "free_port",
    "port_open",
    "shared_database",
    "wait_port",
]

SHARED_PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


class ServiceMissing(RuntimeError):
    """A server binary is not installed here (the message names what to install)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port: int, timeout: float = 30.0, *, open_: bool = True) -> None:
    """Wait until ``port`` accepts connections (or stops, with ``open_=False``); raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port) == open_:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not {'open' if open_ else 'close'} within {timeout:.0f} s")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise ServiceMissing(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return path


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own: ``initdb`` in a temp folder, trust auth, loopback only."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ugc-pg-")))
    as_user: str | None = None

    def __post_init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if os.geteuid() == 0 and self.as_user is None:
            self.as_user = "postgres"
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=timeout)

    def init(self) -> PrivatePostgres:
        if self.as_user:
            shutil.chown(self.folder, self.as_user)
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
                "fsync = off\nmax_connections = 60\nshared_buffers = 32MB\n"
            )
        return self

    def start(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        wait_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)
        wait_port(self.port, open_=False)

    def running(self) -> bool:
        return self._run(self.pg_ctl, "-D", str(self.data), "status", check=False).returncode == 0

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            if self.data.exists() and self.running():
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        try:
            self.init().start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


@dataclass
class PrivateRedis:
    """A Redis server of our own on a free loopback port: no persistence, daemonized with a pidfile."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ugc-redis-")))

    def __post_init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceMissing("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.pidfile = self.folder / "redis.pid"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--pidfile", str(self.pidfile), "--dir", str(self.folder),
             "--logfile", str(self.folder / "redis.log")],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        wait_port(self.port)

    def pid(self) -> int | None:
        for _ in range(100):  # the pidfile is written just after the port opens
            with contextlib.suppress(FileNotFoundError, ValueError):
                return int(self.pidfile.read_text().strip())
            time.sleep(0.02)
        return None

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        wait_port(self.port, open_=False)
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            if port_open(self.port):
                self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


@contextlib.contextmanager
def shared_database(prefix: str = "ugc_load_") -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL (5432), dropped afterwards; yields its URL."""
    import psycopg

    name = f"{prefix}{secrets.token_hex(5)}"
    with psycopg.connect(SHARED_PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(SHARED_PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class SmallDisk:
    """A folder on a filesystem of ``size_kib`` KiB: a tmpfs mount when we may mount (root).

    ``how`` says what was done. Without the right to mount, ``method`` is ``"fsize"``: the folder is
    an ordinary one and the server process must be started with :meth:`limit_file_size` as its
    ``preexec_fn`` (RLIMIT_FSIZE; writes past it fail with EFBIG instead of ENOSPC).
    """

    size_kib: int = 2048
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ugc-smalldisk-")))
    method: str = ""
    how: str = ""

    def __enter__(self) -> SmallDisk:
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size_kib}k,mode=0777", "tmpfs", str(self.folder)],
            capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode == 0:
            self.method = "tmpfs"
            self.how = f"a {self.size_kib} KiB tmpfs mounted at the temp folder (mount -t tmpfs -o size={self.size_kib}k)"
        else:
            self.method = "fsize"
            self.how = (
                f"mount failed ({result.stderr.strip() or result.returncode}); the server ran with RLIMIT_FSIZE = "
                f"{self.size_kib} KiB, so writes past it fail with EFBIG"
            )
        return self

    def limit_file_size(self) -> None:
        if self.method == "fsize":
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            limit = self.size_kib * 1024
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    def fill(self) -> int:
        """Fill the filesystem (tmpfs) until writes fail; return the bytes written."""
        if self.method != "tmpfs":
            return 0
        written = 0
        with (self.folder / "filler").open("wb") as handle:
            chunk = b"\0" * 65536
            with contextlib.suppress(OSError):
                while True:
                    handle.write(chunk)
                    handle.flush()
                    written += len(chunk)
        return written

    def __exit__(self, *exc: object) -> None:
        if self.method == "tmpfs":
            subprocess.run(["umount", str(self.folder)], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
