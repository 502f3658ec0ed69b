"""Helpers for tests that run scripts of this folder under ``mpiexec``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent


def find_mpiexec() -> str | None:
    """``mpiexec`` next to the running Python first (the virtualenv's), then on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("mpiexec")


def require_mpi() -> str:
    """The mpiexec path; skip the calling test with a clear reason if MPI is unusable."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not importable (install the `mpi` extra to run MPI tests)")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec next to sys.executable or on PATH (install mpich)")
    return mpiexec


def run_mpi(
    script: str, n_ranks: int, *args: str, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run ``mpiexec -n n_ranks python SCRIPTS/script args...`` with a timeout."""
    mpiexec = require_mpi()
    cmd = [mpiexec, "-n", str(n_ranks), sys.executable, str(SCRIPTS / script), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
