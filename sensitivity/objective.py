"""One trial: design point -> ``solver.train`` -> an :class:`Outcome` (record + learning curve).

A trial's ``record`` (stored as the user attribute ``record``) holds::

    status           "complete" | "diverged" | "failed"
    solver_status    TrainResult.status ("converged", "max_iterations", "target_reached",
                     "diverged", "time_budget", "stopped") or None when training raised
    reason           TrainResult.message, or "ExceptionType: message" for a failed trial
    val_acc, train_acc, objective, loss, grad_norm      TrainResult.final (NaN if absent)
    wall_time, modelled_time, n_params                  TrainResult fields
    n_iterations, n_layers_final                        from the history / final network
    reached_target, time_to_target_wall, time_to_target_modelled
                     first history row with val_acc >= metric.target (censored: NaN, False)
    trial_time       wall time of the whole trial including data loading and set-up
    worker           host:pid of the process that trained it

and ``curve`` holds the history columns (``CURVE_COLUMNS``) as lists, NaN stored as null.
Diverged training is data, not an error: it is a COMPLETE Optuna trial with status "diverged"
and the worst value of the metric (accuracy 0, or the censoring time for time-to-target).
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sensitivity import bridge
from sensitivity.design import DesignPoint
from sensitivity.errors import Interrupted
from sensitivity.hostid import worker_id
from sensitivity.spec import StudySpec
from solver.train import HISTORY_COLUMNS

__all__ = ["Outcome", "run_trial", "CURVE_COLUMNS", "RECORD_FIELDS", "time_to_target"]

CURVE_COLUMNS = HISTORY_COLUMNS  # the solver's history row keys, stored per trial
RECORD_FIELDS = (
    "status", "solver_status", "reason", "val_acc", "train_acc", "objective", "loss", "grad_norm",
    "wall_time", "modelled_time", "n_params", "n_iterations", "n_layers_final", "reached_target",
    "time_to_target_wall", "time_to_target_modelled", "trial_time", "worker",
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What a trial hands to storage: Optuna value (None = failed), record and curve."""

    value: float | None
    record: dict[str, Any]
    curve: dict[str, list[Any]]

    @property
    def failed(self) -> bool:
        return self.value is None


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _json_num(x: Any) -> Any:
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    v = _f(x)
    return None if not math.isfinite(v) else (int(v) if isinstance(x, int) else v)


def time_to_target(
    rows: Sequence[Mapping[str, Any]], target: float | None
) -> tuple[bool, float, float]:
    """First history row with ``val_acc >= target``: (reached, wall time, modelled time).

    Runs that never reach the target are censored: ``(False, nan, nan)``.
    """
    if target is None:
        return False, math.nan, math.nan
    for row in rows:
        acc = _f(row.get("val_acc"))
        if math.isfinite(acc) and acc >= target:
            return True, _f(row.get("wall_time")), _f(row.get("modelled_time"))
    return False, math.nan, math.nan


def _curve(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    return {c: [_json_num(r.get(c, math.nan)) for r in rows] for c in CURVE_COLUMNS}


def _value(spec: StudySpec, record: Mapping[str, Any]) -> float:
    if spec.metric.name == "val_acc":
        v = _f(record["val_acc"])
        return v if math.isfinite(v) and record["status"] != "diverged" else 0.0
    key = "time_to_target_modelled" if spec.metric.clock == "modelled" else "time_to_target_wall"
    if record["reached_target"]:
        return _f(record[key])
    censor = _f(record["modelled_time" if spec.metric.clock == "modelled" else "wall_time"])
    return censor if math.isfinite(censor) else 1e300


def run_trial(
    spec: StudySpec,
    point: DesignPoint,
    *,
    comm: Any | None = None,
    train: Callable[..., Any] | None = None,
    callback: Callable[[dict], bool | None] | None = None,
) -> Outcome:
    """Train one design point and summarise it.

    Exceptions of the solver become a failed :class:`Outcome` with the reason; only
    :class:`~sensitivity.errors.Interrupted` and ``KeyboardInterrupt`` propagate.
    """
    t0 = time.perf_counter()
    record: dict[str, Any] = {k: math.nan for k in RECORD_FIELDS}
    record["worker"] = worker_id()
    try:
        train = train or bridge.train_function()
        data_probe = bridge.load_data(spec, bridge.build_data_options(spec, point))
        configs = bridge.build_trial(
            spec, point, n_features=data_probe.n_features, n_classes=data_probe.n_classes
        )
        kwargs: dict[str, Any] = dict(
            optimizer=configs.optimizer, stop=configs.stop, init=configs.init,
            strategy=configs.strategy, parallel=configs.parallel,
        )  # fmt: skip
        if comm is not None:
            kwargs["comm"] = comm
        if callback is not None:
            kwargs["callback"] = callback
        result = train(configs.network, data_probe, **kwargs)
    except (Interrupted, KeyboardInterrupt):
        raise
    except Exception as err:  # noqa: BLE001 - a failing trial is data, the study goes on
        tb = traceback.extract_tb(err.__traceback__)
        where = f" at {tb[-1].filename}:{tb[-1].lineno}" if tb else ""
        record.update(
            status="failed",
            solver_status=None,
            reason=f"{type(err).__name__}: {err}{where}",
            reached_target=False,
            trial_time=time.perf_counter() - t0,
        )
        return Outcome(None, {k: _json_num(v) for k, v in record.items()}, _curve([]))
    rows = list(result.history)
    final = dict(result.final or {})
    reached, ttw, ttm = time_to_target(rows, spec.metric.target)
    diverged = result.status == "diverged"
    n_layers = getattr(getattr(result, "config", None), "n_layers", math.nan)
    record.update(
        status="diverged" if diverged else "complete",
        solver_status=str(result.status),
        reason=str(getattr(result, "message", "")),
        val_acc=_f(final.get("val_acc")),
        train_acc=_f(final.get("train_acc")),
        objective=_f(final.get("objective")),
        loss=_f(final.get("loss")),
        grad_norm=_f(final.get("grad_norm")),
        wall_time=_f(result.wall_time),
        modelled_time=_f(result.modelled_time),
        n_params=int(result.n_params),
        n_iterations=int(max((_f(r.get("iteration")) for r in rows), default=0)),
        n_layers_final=n_layers,
        reached_target=reached,
        time_to_target_wall=ttw,
        time_to_target_modelled=ttm,
        trial_time=time.perf_counter() - t0,
    )
    value = _value(spec, record)
    return Outcome(value, {k: _json_num(v) for k, v in record.items()}, _curve(rows))
