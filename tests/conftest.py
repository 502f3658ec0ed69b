"""Shared pytest fixtures."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The authors' reference files, ``<repo>/../shared/reference-data`` (skip when absent)."""
    path = (Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-data").resolve()
    if not path.is_dir():
        pytest.skip(
            "../shared/reference-data is absent "
            "(authors' reference files are only in the developers' workspace)"
        )
    return path


# --- A throw-away PostgreSQL server (tests marked `postgres`) ------------------------------------

_PG_OUTCOMES: dict[str, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against a throw-away PostgreSQL server")


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL server for the session (see ``tests/pg_server.py``). Skips only where
    no server binary exists; with ``REQUIRE_POSTGRES=1`` (set by ``.ci/run``) that fails."""
    from pg_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        reason = ("no PostgreSQL server binaries (initdb, pg_ctl) on PATH, in "
                  "/usr/lib/postgresql/*/bin or `pg_config --bindir`; install Debian's "
                  "`postgresql` package")  # fmt: skip
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    server = PostgresServer(bindir).start()
    _PG_OUTCOMES["server"] = server.version  # type: ignore[assignment]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server, request: pytest.FixtureRequest) -> str:
    """URL of a fresh, empty database (no schema yet) on the session's server."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return postgres_server.create_database(f"{name}_{uuid.uuid4().hex[:8]}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _PG_OUTCOMES[report.outcome] = _PG_OUTCOMES.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook
    if not any(k in _PG_OUTCOMES for k in ("passed", "failed", "skipped")):
        return
    ran = _PG_OUTCOMES.get("passed", 0) + _PG_OUTCOMES.get("failed", 0)
    terminalreporter.write_line(
        f"postgres-marked tests: ran {ran} against {_PG_OUTCOMES.get('server', 'no server')} "
        f"({_PG_OUTCOMES.get('passed', 0)} passed, {_PG_OUTCOMES.get('failed', 0)} failed, "
        f"{_PG_OUTCOMES.get('skipped', 0)} skipped)"
    )
