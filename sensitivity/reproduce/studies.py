"""Derived study files: a study of ``studies/`` resized for a scale, written next to its storage.

``derive(base, overrides, name, paths)`` reads ``studies/<base>``, merges ``overrides`` (nested
tables; a value ``None`` deletes the key), names the study ``name``, points its results to
``paths.storage`` and writes ``<paths.storage>/<name>.toml``; that file is the study actually
run (``python -m sensitivity run <it>`` resumes it by hand). ``run_study`` creates or resumes it
with one local worker and returns its results.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sensitivity.reproduce.base import REPO, Paths

__all__ = ["derive", "run_study", "dump_toml"]


def _merge(doc: dict, over: Mapping[str, Any]) -> dict:
    for key, value in over.items():
        if value is None:
            doc.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(doc.get(key), dict):
            _merge(doc[key], value)
        else:
            doc[key] = copy.deepcopy(value) if not isinstance(value, Mapping) else dict(value)
    return doc


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML cannot hold {v!r}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} to TOML")


def dump_toml(doc: Mapping[str, Any], prefix: str = "") -> str:
    """TOML text of nested tables of scalars and lists of scalars."""
    lines: list[str] = []
    scalars = {k: v for k, v in doc.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in doc.items() if isinstance(v, Mapping)}
    if prefix and (scalars or not tables):
        lines.append(f"[{prefix}]")
    lines += [f"{k} = {_value(v)}" for k, v in scalars.items()]
    if lines:
        lines.append("")
    for k, v in tables.items():
        lines.append(dump_toml(v, f"{prefix}.{k}" if prefix else k))
    return "\n".join(lines)


def derive(base: str, overrides: Mapping[str, Any], name: str, paths: Paths) -> Path:
    """Write the derived study file and return its path (see module docstring)."""
    with open(REPO / "studies" / base, "rb") as fh:
        doc = tomllib.load(fh)
    _merge(doc, overrides)
    doc.setdefault("study", {})["name"] = name
    run = doc.setdefault("run", {})
    run["results_dir"] = str(paths.storage)
    run["workers"] = 1
    paths.storage.mkdir(parents=True, exist_ok=True)
    path = paths.storage / f"{name}.toml"
    text = f"# Derived from studies/{base} by sensitivity.reproduce (do not edit)\n\n"
    text += dump_toml(doc)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def run_study(path: Path, *, quiet: bool = True):
    """Create or resume the study of ``path`` with one worker; return its ``StudyResults``."""
    from sensitivity.progress import Progress
    from sensitivity.results import load
    from sensitivity.session import prepare, run_local
    from sensitivity.spec import load_spec

    spec = load_spec(path)
    argv = ["sensitivity", "reproduce", str(path)]
    h = prepare(spec, argv=argv, workers=1)
    progress = Progress(spec.name, quiet=quiet)
    try:
        run_local(spec, h, workers=1, on_progress=progress)
    finally:
        progress.close()
    return load(spec)
