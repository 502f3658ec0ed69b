"""Shared pytest fixtures."""

from __future__ import annotations

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
