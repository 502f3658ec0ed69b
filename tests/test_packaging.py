"""Packaging metadata: no deprecated forms (setuptools warned on ``license = { text = ... }``)."""

from __future__ import annotations

import tomllib
from pathlib import Path


def test_license_is_an_spdx_string() -> None:
    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    assert any(r.startswith("setuptools>=77") for r in meta["build-system"]["requires"])
