"""Study results as tidy pandas DataFrames, read from the storage only (no retraining).

``load("results/<study>")`` (or a study file, or a :class:`~sensitivity.spec.StudySpec`) returns
:class:`StudyResults` with

``trials`` -- one row per Optuna trial (every attempt, failed ones included):

===================== ========== ==========================================================
column                dtype      meaning
===================== ========== ==========================================================
trial                 int64      Optuna trial number
design_index          Int64      design point the trial belongs to
attempt               Int64      0 for the first try of a point, 1, 2 ... for retries
counted               bool       the trial that stands for its design point (the first complete
                                 one, or the latest attempt when none completed; further
                                 complete trials of a point are duplicates: ``duplicates``)
strategy              string     random | nested | spline | box
seed                  Int64      initialisation seed
param_<name>          float64 /  one column per ``[space.<name>]``; choices of lists are JSON
                      object     strings
state                 string     Optuna state: COMPLETE, FAIL, RUNNING, WAITING
status                string     complete | diverged | failed | running | waiting
solver_status         string     TrainResult.status (converged, max_iterations, ...)
reason                string     TrainResult.message or the failure ("Type: message")
value                 float64    the Optuna value: final accuracy (0 if diverged) or time to
                                 target (censored: budget * (1 + shortfall); sensitivity.records)
val_acc, train_acc,   float64    TrainResult.final
objective, loss,
grad_norm
wall_time,            float64    seconds; modelled = modelled parallel time
modelled_time
n_params,             Int64      trainable parameters, iterations, final depth, classes
n_iterations,                    (n_classes: chance level 1/n_classes of the curves)
n_layers_final,
n_classes
reached_target        boolean    validation accuracy reached ``metric.target`` within
                                 ``metric.budget`` (sensitivity.records.time_to_target)
time_to_target_wall,  float64    first time at the target (NaN = never reached: censored)
time_to_target_modelled
trial_time            float64    whole trial incl. data and set-up (harness view)
worker                string     host:pid of the worker that ran it
datetime_start,       datetime64 Optuna timestamps (local time)
datetime_complete
===================== ========== ==========================================================

``curves`` -- long format, one row per (trial, history row) of counted finished trials:
``trial, strategy, seed, param_<name>...`` and the solver's history columns
(:data:`~sensitivity.records.CURVE_COLUMNS`), all float64 except ``trial, seed, iteration,
level, n_layers`` (Int64).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from sensitivity.errors import StorageError
from sensitivity.records import CURVE_COLUMNS, RECORD_FIELDS, param_columns
from sensitivity.spec import StudySpec, load_spec

__all__ = ["StudyResults", "load", "export", "TRIAL_COLUMNS", "param_columns",
           "DuplicateTrialsWarning"]


class DuplicateTrialsWarning(UserWarning):
    """A storage holds more than one complete trial of some design point (older versions ran
    hosts without coordination); only the first is counted."""


_INT_COLS = (
    "design_index", "attempt", "seed", "n_params", "n_iterations", "n_layers_final", "n_classes"
)  # fmt: skip
_STR_COLS = ("strategy", "state", "status", "solver_status", "reason", "worker")
_FLOAT_COLS = (
    "value", "val_acc", "train_acc", "objective", "loss", "grad_norm", "wall_time",
    "modelled_time", "time_to_target_wall", "time_to_target_modelled", "trial_time",
)  # fmt: skip
TRIAL_COLUMNS = (
    ("trial", "design_index", "attempt", "counted", "strategy", "seed")
    + ("state", "status", "solver_status", "reason", "value")
    + tuple(f for f in RECORD_FIELDS if f not in ("status", "solver_status", "reason", "worker"))
    + ("worker", "datetime_start", "datetime_complete")
)


@dataclass
class StudyResults:
    """Trials and curves of one study, with its spec and the Optuna study they came from."""

    spec: StudySpec | None
    study: optuna.Study
    trials: pd.DataFrame
    curves: pd.DataFrame
    duplicates: int = 0  # extra COMPLETE trials of a design point, ignored (see ``counted``)

    @property
    def params(self) -> list[str]:
        """``param_<name>`` columns of the searched parameters."""
        return param_columns(self.trials)

    def counted(self) -> pd.DataFrame:
        """The trials standing for design points (one per point)."""
        return self.trials[self.trials["counted"]].reset_index(drop=True)


def _resolve(source: str | Path | StudySpec, storage: str | None) -> tuple[Any, str, Any]:
    """(spec or None, study name, storage) from a results directory, a study file or a spec."""
    if isinstance(source, StudySpec):
        from sensitivity.storage import open_storage

        return source, source.name, open_storage(source, storage)
    p = Path(source)
    if p.suffix == ".toml":
        spec = load_spec(p)
        from sensitivity.storage import open_storage

        return spec, spec.name, open_storage(spec, storage)
    spec = None
    resolved = p / "resolved.json"
    name = p.name
    if resolved.exists():
        meta = json.loads(resolved.read_text())
        name = meta.get("name", name)
        if storage is None and not (p / "journal.log").exists():
            storage = meta.get("storage")  # a URL storage recorded by `run`
        src = meta.get("study_file")
        if src and Path(src).exists():
            try:
                spec = load_spec(src)
            except Exception:  # noqa: BLE001 - the file may have changed; results still load
                spec = None
    if storage is None:
        journal = p / "journal.log"
        if not journal.exists():
            raise StorageError(
                f"{p}: no journal.log here. Fix: pass the results directory of a study "
                "(results/<study>) or --storage URL."
            )
        from sensitivity.storage import journal_storage

        storage = journal_storage(journal)
    elif storage.endswith((".log", ".jsonl")):
        from sensitivity.storage import journal_storage

        storage = journal_storage(storage)
    return spec, name, storage


def _status(t: optuna.trial.FrozenTrial) -> str:
    if t.state == optuna.trial.TrialState.RUNNING:
        return "running"
    if t.state == optuna.trial.TrialState.WAITING:
        return "waiting"
    if t.state == optuna.trial.TrialState.FAIL:
        return "failed"
    record = t.user_attrs.get("record") or {}
    return str(t.user_attrs.get("status") or record.get("status") or "complete")


def _counted(frozen: list[optuna.trial.FrozenTrial]) -> tuple[set[int], int]:
    """Trial numbers standing for their design points, and the duplicates ignored.

    Per point: the first (lowest-numbered) COMPLETE trial, else the latest finished one. Further
    COMPLETE trials of a point are duplicate runs (hosts that queued the same design before
    queueing was coordinated through the storage); they are counted in no statistic.
    """
    complete = optuna.trial.TrialState.COMPLETE
    best: dict[int, optuna.trial.FrozenTrial] = {}
    n_complete: dict[int, int] = {}
    for t in frozen:
        idx = t.user_attrs.get("design_index")
        if idx is None or not t.state.is_finished():
            continue
        n_complete[idx] = n_complete.get(idx, 0) + (t.state == complete)
        cur = best.get(idx)
        rank = (t.state == complete, -t.number if t.state == complete else t.number)
        if cur is None or rank > (cur.state == complete,
                                  -cur.number if cur.state == complete else cur.number):
            best[idx] = t
    duplicates = sum(max(n - 1, 0) for n in n_complete.values())
    return {t.number for t in best.values()}, duplicates


def _trials_frame(frozen: list[optuna.trial.FrozenTrial], names: list[str]) -> pd.DataFrame:
    counted, _ = _counted(frozen)
    rows = []
    for t in frozen:
        rec = dict(t.user_attrs.get("record") or {})
        row: dict[str, Any] = {
            "trial": t.number,
            "design_index": t.user_attrs.get("design_index"),
            "attempt": t.user_attrs.get("attempt"),
            "counted": t.number in counted,
            "strategy": t.user_attrs.get("strategy"),
            "seed": t.user_attrs.get("seed"),
            "state": t.state.name,
            "status": _status(t),
            "solver_status": rec.get("solver_status"),
            "reason": t.user_attrs.get("reason") or rec.get("reason"),
            "value": t.value,
        }
        for f in RECORD_FIELDS:
            if f not in ("status", "solver_status", "reason", "worker"):
                row[f] = rec.get(f)
        hb = t.user_attrs.get("heartbeat")
        row["worker"] = rec.get("worker") or (hb[1] if isinstance(hb, list | tuple) else None)
        row["datetime_start"] = t.datetime_start
        row["datetime_complete"] = t.datetime_complete
        for n in names:
            row[f"param_{n}"] = t.params.get(n)
        rows.append(row)
    cols = list(TRIAL_COLUMNS) + [f"param_{n}" for n in names]
    df = pd.DataFrame(rows, columns=cols)
    df["trial"] = df["trial"].astype("int64")
    df["counted"] = df["counted"].astype(bool)
    for c in _INT_COLS:
        df[c] = pd.array(df[c].tolist(), dtype="Int64") if len(df) else df[c].astype("Int64")
    for c in _STR_COLS:
        df[c] = df[c].astype("string")
    for c in _FLOAT_COLS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["reached_target"] = df["reached_target"].astype("boolean")
    for c in ("datetime_start", "datetime_complete"):
        df[c] = pd.to_datetime(df[c])
    for n in names:
        c = f"param_{n}"
        vals = df[c].dropna()
        if len(vals) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
            df[c] = df[c].astype("float64")
    return df


def _curves_frame(
    frozen: list[optuna.trial.FrozenTrial], trials: pd.DataFrame, names: list[str]
) -> pd.DataFrame:
    keys = ["trial", "strategy", "seed"] + [f"param_{n}" for n in names]
    index = trials.set_index("trial")
    parts = []
    for t in frozen:
        curve = t.user_attrs.get("curve")
        if not curve or t.number not in index.index or not index.at[t.number, "counted"]:
            continue
        n = len(curve.get("iteration", []))
        if n == 0:
            continue
        block = {c: np.array([np.nan if v is None else v for v in curve.get(c, [None] * n)],
                             dtype="float64") for c in CURVE_COLUMNS}  # fmt: skip
        frame = pd.DataFrame(block)
        frame["trial"] = t.number
        for k in keys[1:]:
            value = index.at[t.number, k]
            frame[k] = None if pd.isna(value) else value
        parts.append(frame)
    if parts:
        df = pd.concat(parts, ignore_index=True)
    else:
        df = pd.DataFrame({c: pd.Series(dtype="float64") for c in CURVE_COLUMNS})
        for k in keys:
            df[k] = pd.Series(dtype="float64")
    df = df[keys + list(CURVE_COLUMNS)]
    df["trial"] = df["trial"].astype("int64")
    df["strategy"] = df["strategy"].astype("string")
    for c in ("seed", "iteration", "level", "n_layers"):
        df[c] = pd.array([None if pd.isna(v) else int(v) for v in df[c].tolist()], dtype="Int64")
    for c in names:
        col = f"param_{c}"
        if col in trials and trials[col].dtype == "float64":
            df[col] = df[col].astype("float64")
    return df


def load(source: str | Path | StudySpec, *, storage: str | None = None) -> StudyResults:
    """Load a study's trials and curves.

    Args:
        source: ``results/<study>`` (journal storage), a study file, or a spec.
        storage: an Optuna storage URL overriding the default journal file.

    Raises:
        StorageError: nothing stored there.
    """
    spec, name, store = _resolve(source, storage)
    try:
        study = optuna.load_study(study_name=name, storage=store)
    except KeyError:
        raise StorageError(
            f"no study {name!r} in the storage of {source}. Fix: run `sensitivity run` first."
        ) from None
    frozen = study.get_trials(deepcopy=False)
    if spec is not None:
        names = [p.name for p in spec.space]
    else:
        names = list(dict.fromkeys(k for t in frozen for k in t.params if k not in
                                   ("strategy", "seed")))  # fmt: skip
    trials = _trials_frame(frozen, names)
    curves = _curves_frame(frozen, trials, names)
    _, duplicates = _counted(frozen)
    if duplicates:
        warnings.warn(
            f"study {name!r}: {duplicates} duplicate complete trials of already complete design "
            f"points ignored (the first complete trial of each point is counted)",
            DuplicateTrialsWarning,
            stacklevel=2,
        )
    return StudyResults(spec, study, trials, curves, duplicates)


def export(results: StudyResults, out_dir: str | Path, *, formats=("parquet", "csv")) -> list[Path]:
    """Write ``trials`` and ``curves`` (parquet and/or CSV) and the summary tables
    ``summary, paired, variance_shares, time_to_target`` (CSV, :mod:`sensitivity.tables`)
    into ``out_dir``; return the paths. Every file gets a last column ``code_version``: the git
    commit of the code that wrote it (the commits of the runs are in ``resolved.json``)."""
    from sensitivity.tables import code_version, study_tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in (("trials", results.trials), ("curves", results.curves)):
        frame = df.assign(code_version=code_version())
        for c in param_columns(frame):
            if frame[c].dtype == object:
                frame[c] = frame[c].astype("string")
        if "parquet" in formats:
            path = out / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            written.append(path)
        if "csv" in formats:
            path = out / f"{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
    for name, df in study_tables(results).items():
        path = out / f"{name}.csv"
        df.to_csv(path, index=False)
        written.append(path)
    return written
