"""A throw-away PostgreSQL server for tests and benchmarks (``initdb`` + ``pg_ctl`` in a temp dir).

The server listens on 127.0.0.1 (a free port) and on a unix socket in its temp dir, with trust
authentication for the ``postgres`` role. The server refuses to run as root: as root every
server command runs as the ``postgres`` user (``runuser -u postgres --``; ``nobody`` where no
such user exists), and the temp dir is handed to that user.

Binaries are looked up on ``PATH``, then in ``/usr/lib/postgresql/<version>/bin`` (newest
first), then in ``pg_config --bindir``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_bindir", "PostgresServer"]


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if (Path(d) / "pg_ctl").exists() and (Path(d) / "initdb").exists():
            return Path(d)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        d = Path(out.stdout.strip())
        if out.returncode == 0 and (d / "pg_ctl").exists() and (d / "initdb").exists():
            return d
    return None


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``start()`` / ``stop()`` a private server; ``create_database(name)`` -> SQLAlchemy URL.

    ``fsync=False`` (tests) turns off durability for speed; benchmarks keep the default.
    """

    def __init__(self, bindir: Path, *, fsync: bool = False, max_connections: int = 200) -> None:
        self.bindir = bindir
        self.fsync = fsync
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        out = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}\n{log}")
        return out

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            f"-c max_connections={self.max_connections} -c fsync={'on' if self.fsync else 'off'}"
            f" -c synchronous_commit={'on' if self.fsync else 'off'}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w",
                  "-t", "60", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def version(self) -> str:
        out = subprocess.run([str(self.bindir / "postgres"), "--version"], capture_output=True,
                             text=True, check=False)  # fmt: skip
        return out.stdout.strip()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (empty: no schema); return its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
