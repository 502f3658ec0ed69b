"""Workers: claim a trial, train it with a heartbeat, store its outcome; repeat.

A worker exits when no trial is waiting and none is running elsewhere (a running trial of a
dead worker is failed and re-queued after ``run.grace_period``, and then picked up; a design
point left without any live trial, e.g. by a host killed between failing a trial and queueing
its retry, is queued again before the worker leaves). SIGINT and
SIGTERM fail the running trial with a retryable reason, re-queue it and raise
:class:`~sensitivity.errors.Interrupted`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from sensitivity.design import DesignPoint, adaptive_slot, decode, distribution
from sensitivity.errors import Interrupted
from sensitivity.objective import Outcome, run_trial
from sensitivity.spec import ParamSpec
from sensitivity.storage import (
    ACTIVE,
    Heartbeat,
    StudyHandle,
    beat,
    coordinated,
    fail_stale,
    fail_trial,
    requeue,
    running_trials,
    sync_design,
    waiting_ids,
)

__all__ = [
    "WorkerReport", "TrialSlot", "work", "claim", "store_outcome", "signals_interrupt", "suggest"
]  # fmt: skip


@dataclass
class WorkerReport:
    """What one worker did."""

    trials: int = 0
    complete: int = 0
    diverged: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)


def suggest(trial: optuna.Trial, p: ParamSpec) -> Any:
    """Register ``p`` on ``trial`` (fixed for queued trials, sampled otherwise); decoded value."""
    d = distribution(p)
    if isinstance(d, optuna.distributions.FloatDistribution):
        v = trial.suggest_float(p.name, d.low, d.high, log=d.log)
    elif isinstance(d, optuna.distributions.IntDistribution):
        v = trial.suggest_int(p.name, d.low, d.high, log=d.log)
    else:
        v = trial.suggest_categorical(p.name, d.choices)
    return decode(p, v)


def _register(h: StudyHandle, trial: optuna.Trial, point: DesignPoint) -> DesignPoint:
    params = {p.name: suggest(trial, p) for p in h.spec.params_for(point.strategy)}
    trial.suggest_categorical("strategy", list(h.spec.strategies))
    trial.suggest_categorical("seed", list(h.spec.design.seeds))
    return DesignPoint(point.index, point.strategy, point.seed, params)


def _pop_waiting(h: StudyHandle) -> tuple[optuna.Trial, DesignPoint] | None:
    """Claim a WAITING trial (atomic WAITING -> RUNNING in the storage; a lost race moves on)."""
    while True:
        got = _try_claim(h, waiting_ids(h))
        if got != "lost":
            return got  # type: ignore[return-value]


def _try_claim(h: StudyHandle, ids: list[int]) -> tuple[optuna.Trial, DesignPoint] | None | str:
    if not ids:
        return None
    for tid in ids:
        try:
            if not h.storage.set_trial_state_values(tid, TrialState.RUNNING):
                continue
        except UpdateFinishedTrialError:
            continue
        beat(h, tid)  # names its worker at once (a worker killed right now is named as stale)
        t = h.storage.get_trial(tid)
        if t.user_attrs.get("design_index") is None:  # a trial queued by someone else: skip
            h.storage.set_trial_state_values(tid, TrialState.FAIL)
            continue
        trial = optuna.Trial(h.study, tid)
        if h.design is not None:  # queued with its parameters already set
            return trial, h.design[int(t.user_attrs["design_index"])]
        strategy, seed = t.user_attrs["strategy"], int(t.user_attrs["seed"])
        return trial, _register(
            h, trial, DesignPoint(int(t.user_attrs["design_index"]), strategy, seed)
        )
    return "lost"  # every candidate was claimed by others meanwhile: look again


def _ask_adaptive(h: StudyHandle) -> tuple[optuna.Trial, DesignPoint] | None:
    """Next slot of a tpe design: queue its strategy/seed, pop it, let TPE sample the rest."""
    with coordinated(h):  # one asker at a time across hosts: each slot is asked exactly once
        trials = h.trials()
        taken = {
            int(t.user_attrs["design_index"])
            for t in trials
            if t.state in ACTIVE and t.user_attrs.get("design_index") is not None
        }
        free = [i for i in range(h.total) if i not in taken]
        if not free:
            return None
        idx = free[0]
        strategy, seed = adaptive_slot(h.spec, idx)
        h.study.enqueue_trial(
            {"strategy": strategy, "seed": seed},
            user_attrs={"design_index": idx, "strategy": strategy, "seed": seed,
                        "attempt": sum(t.user_attrs.get("design_index") == idx for t in trials),
                        "retry_of": None},
        )  # fmt: skip
        return _pop_waiting(h)


def claim(h: StudyHandle) -> tuple[optuna.Trial, DesignPoint] | None:
    """Claim the next trial: a queued one, or (tpe) a new slot. ``None`` when nothing is left."""
    got = _pop_waiting(h)
    if got is None and h.design is None:
        got = _ask_adaptive(h)
    return got


def store_outcome(h: StudyHandle, trial: optuna.Trial, outcome: Outcome) -> bool:
    """Write record and curve, then tell Optuna. False if the trial was failed meanwhile
    (e.g. declared stale) -- its retry then stands and this result is dropped."""
    try:
        trial.set_user_attr("record", outcome.record)  # holds status and reason
        trial.set_user_attr("curve", outcome.curve)
        if outcome.failed:
            h.study.tell(trial, state=TrialState.FAIL)
        else:
            h.study.tell(trial, outcome.value)
    except UpdateFinishedTrialError:
        return False
    except ValueError as err:  # optuna: "Cannot tell a FAIL trial." (failed as stale meanwhile)
        if "Cannot tell a" in str(err):
            return False
        raise
    if outcome.failed:
        requeue(h, h.trials()[trial.number])
    return True


class _SafePoints:
    """Where a signal may interrupt a worker: only while it trains (:meth:`training`).

    A signal that arrives elsewhere -- in the middle of a storage write, whose journal file lock
    would otherwise be left behind and stall every other worker, or while a trial is being
    claimed -- is kept pending and raised at the next :meth:`checkpoint` (before training,
    between trials, while waiting), so the claimed trial is always known to
    :meth:`TrialSlot.fail` and no storage operation is cut in half.
    """

    def __init__(self) -> None:
        self.training_now = False
        self.pending: int | None = None

    def checkpoint(self) -> None:
        if self.pending is not None:
            signum, self.pending = self.pending, None
            raise Interrupted(signum)

    @contextlib.contextmanager
    def training(self) -> Iterator[None]:
        self.checkpoint()
        self.training_now = True
        try:
            yield
        finally:
            self.training_now = False


_SAFE = _SafePoints()


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Turn the first SIGINT/SIGTERM into :class:`Interrupted` (main thread only): at once while
    training, else at the next safe point (see :class:`_SafePoints`); later signals are ignored
    so that the running trial's fail-and-requeue completes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    raised: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if raised:  # a second signal must not cut the re-queue of the first one short
            return
        raised.append(signum)
        if _SAFE.training_now:
            raise Interrupted(signum)
        _SAFE.pending = signum

    _SAFE.pending = None
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _SAFE.pending = None


class TrialSlot:
    """The trial one worker is running, and whether the worker was stopped.

    :meth:`fail` may be called from another thread (the MPI job guard): it marks the running
    trial failed with a retryable reason and re-queues it, and stops further claims. The worker
    loop holds :attr:`lock` while it claims, so a trial is never claimed after a stop.
    """

    def __init__(self, h: StudyHandle) -> None:
        self.h = h
        self.lock = threading.RLock()
        self.trial: optuna.Trial | None = None
        self.stopped: int | None = None  # signal number once stopped

    def claim(self) -> tuple[optuna.Trial, DesignPoint] | None:
        """:func:`claim` unless stopped (then :class:`Interrupted`)."""
        with self.lock:
            if self.stopped is not None:
                raise Interrupted(self.stopped)
            got = claim(self.h)
            self.trial = got[0] if got is not None else None
        _SAFE.checkpoint()
        return got

    def done(self) -> None:
        with self.lock:
            self.trial = None

    def fail(self, reason: str, signum: int = signal.SIGTERM) -> bool:
        """Fail-and-requeue the running trial (if any); no more claims. True if one was failed."""
        with self.lock:
            self.stopped = int(signum)
            trial, self.trial = self.trial, None
            if trial is None:
                return False
            return fail_trial(self.h, self.h.trials()[trial.number], reason)


def work(
    h: StudyHandle,
    *,
    max_trials: int | None = None,
    comm: Any | None = None,
    on_trial: Callable[[DesignPoint, Outcome], None] | None = None,
    wait_for_others: bool = True,
    train: Callable[..., Any] | None = None,
    slot: TrialSlot | None = None,
    share: Callable[[optuna.Trial, DesignPoint], None] | None = None,
    handle_signals: bool = True,
    runner: Callable[..., Outcome] = run_trial,
) -> WorkerReport:
    """Run trials until the design is done (or ``max_trials`` were run by this worker).

    The one worker loop of local workers and MPI group leaders. ``share(trial, point)`` is called
    after each claim (an MPI leader hands the point to its group); ``slot`` is the
    :class:`TrialSlot` an outside watcher may fail (the MPI job guard); with
    ``handle_signals`` SIGINT/SIGTERM raise :class:`Interrupted` here; ``runner`` trains one
    point (default :func:`~sensitivity.objective.run_trial`).

    Raises:
        Interrupted: on SIGINT/SIGTERM, after failing and re-queueing the running trial.
    """
    report = WorkerReport()
    poll = min(1.0, h.spec.run.heartbeat_interval)
    next_stale_check = 0.0  # stale trials matter on the scale of grace_period: look every `poll`
    slot = slot or TrialSlot(h)
    with signals_interrupt() if handle_signals else contextlib.nullcontext():
        while max_trials is None or report.trials < max_trials:
            try:
                _SAFE.checkpoint()
                if time.monotonic() >= next_stale_check:
                    fail_stale(h)  # reads every running trial: once per poll, not per trial
                    next_stale_check = time.monotonic() + poll
                got = slot.claim()
                if got is None:
                    if wait_for_others and running_trials(h):
                        time.sleep(poll)
                        continue
                    if sync_design(h, respect_retries=True):  # a retry lost with a killed host
                        continue
                    break
                trial, point = got
                if share is not None:
                    share(trial, point)
                with Heartbeat(h, trial._trial_id), _SAFE.training():
                    outcome = runner(h.spec, point, comm=comm, train=train)
                store_outcome(h, trial, outcome)
                slot.done()
                _SAFE.checkpoint()
            except (Interrupted, KeyboardInterrupt) as err:
                signum = getattr(err, "signum", signal.SIGINT)
                slot.fail(f"interrupted by {signal.Signals(signum).name} (retryable)", signum)
                raise Interrupted(signum) from None
            report.trials += 1
            status = outcome.record["status"]
            if status == "complete":
                report.complete += 1
            elif status == "diverged":
                report.diverged += 1
            else:
                report.failed += 1
                report.reasons.append(str(outcome.record["reason"]))
            if on_trial is not None:
                on_trial(point, outcome)
    return report
