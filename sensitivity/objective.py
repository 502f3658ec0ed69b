"""One trial: design point -> ``solver.train`` -> an :class:`Outcome` (record + learning curve).

The record and curve follow the contract of :mod:`sensitivity.records` (fields, time-to-target
rule, optimised value). Diverged training is data, not an error: it is a COMPLETE Optuna trial
with status "diverged" and the worst value of the metric (accuracy 0; time to target:
``2 * budget``). A trial whose training raised is a failed :class:`Outcome` (value ``None``).
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
from sensitivity.records import (
    CURVE_COLUMNS,
    RECORD_FIELDS,
    TimeToTarget,
    accuracy_score,
    time_to_target,
    time_to_target_score,
)
from sensitivity.spec import StudySpec

__all__ = ["Outcome", "run_trial", "trial_value"]


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


def _curve(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    return {c: [_json_num(r.get(c, math.nan)) for r in rows] for c in CURVE_COLUMNS}


def trial_value(spec: StudySpec, status: str, val_acc: float, ttt: TimeToTarget) -> float:
    """The Optuna value of a finished trial (rules in :mod:`sensitivity.records`): final
    accuracy (0 when diverged) or time to target (``budget * (1 + shortfall)`` when not
    reached, so every censored trial scores at least every successful one)."""
    m = spec.metric
    if m.name == "val_acc":
        return accuracy_score(val_acc, status)
    return time_to_target_score(
        ttt,
        target=float(m.target),  # type: ignore[arg-type]
        budget=float(m.budget),  # type: ignore[arg-type]
        clock=m.clock,
        diverged=status == "diverged",
    )


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
    ttt = time_to_target(
        [r.get("val_acc") for r in rows],
        [r.get("wall_time") for r in rows],
        [r.get("modelled_time") for r in rows],
        n_layers=[r.get("n_layers") for r in rows],
        target=spec.metric.target,
        clock=spec.metric.clock,
        budget=spec.metric.budget,
    )
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
        n_classes=int(data_probe.n_classes),
        reached_target=ttt.reached,
        time_to_target_wall=ttt.wall,
        time_to_target_modelled=ttt.modelled,
        trial_time=time.perf_counter() - t0,
    )
    value = trial_value(spec, record["status"], record["val_acc"], ttt)
    return Outcome(value, {k: _json_num(v) for k, v in record.items()}, _curve(rows))
