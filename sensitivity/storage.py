"""Study storage: Optuna journal file by default, any Optuna storage URL on request.

Layout of ``results/<study>/``::

    journal.log      Optuna JournalFileBackend (safe for several local processes; SQLite is not)
    resolved.json    the resolved study, design size, versions and command lines of every run
    .harness.lock    fcntl lock serialising design set-up and adaptive (tpe) asks on this host

Optuna's own tools read the journal, e.g.
``optuna trials --storage results/quickstart/journal.log --storage-class JournalFileBackend
--study-name quickstart`` or ``optuna-dashboard results/quickstart/journal.log``.

Trial bookkeeping lives in user attributes: ``design_index``, ``strategy``, ``seed``,
``attempt`` and ``retry_of`` (set when queued), ``worker`` and ``heartbeat`` (while running),
``record`` (with ``status`` and ``reason``) and ``curve`` when finished (see
:mod:`sensitivity.objective`); ``status`` and ``reason`` also as attributes of trials failed by
the harness (stale worker, signal).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from sensitivity.design import DesignPoint, design_total, make_design
from sensitivity.errors import StorageError
from sensitivity.nested import thaw
from sensitivity.spec import StudySpec

__all__ = [
    "StudyHandle",
    "open_storage",
    "open_study",
    "harness_lock",
    "design_fingerprint",
    "sync_design",
    "enqueue_point",
    "fail_stale",
    "Heartbeat",
    "worker_id",
    "counts",
    "CountsTicker",
]

optuna.logging.set_verbosity(optuna.logging.WARNING)

ACTIVE = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)


def worker_id() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def open_storage(spec: StudySpec, url: str | None = None) -> BaseStorage | str:
    """The storage of ``spec``: ``url`` (or ``run.storage``) if given, else the journal file."""
    url = url or spec.run.storage
    if url:
        if url.endswith(".log") or url.endswith(".jsonl"):
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(url))
        return url
    spec.results_path.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(spec.results_path / "journal.log")))


@contextlib.contextmanager
def harness_lock(spec: StudySpec) -> Iterator[None]:
    """Exclusive lock of this host's processes on ``results/<study>/.harness.lock``."""
    spec.results_path.mkdir(parents=True, exist_ok=True)
    with open(spec.results_path / ".harness.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def design_fingerprint(spec: StudySpec) -> str:
    """Hash of everything that decides what a trial computes (not run settings or prose)."""
    raw = {k: v for k, v in thaw(spec.raw).items() if k not in ("run", "analysis")}
    raw.pop("study", None)
    text = json.dumps(raw, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class StudyHandle:
    """An opened study with its storage, id, spec and (fixed) design."""

    spec: StudySpec
    study: optuna.Study
    storage: BaseStorage
    study_id: int
    design: list[DesignPoint] | None
    total: int

    def trial_id(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def trials(self, states: tuple[TrialState, ...] | None = None) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False, states=states)


def _sampler(spec: StudySpec, salt: int) -> optuna.samplers.BaseSampler:
    if spec.design.kind == "tpe":
        return optuna.samplers.TPESampler(seed=spec.design.sampler_seed + salt)
    return optuna.samplers.RandomSampler(seed=spec.design.sampler_seed + salt)


def open_study(
    spec: StudySpec, *, url: str | None = None, create: bool = True, salt: int = 0
) -> StudyHandle:
    """Open (``create=True``: create if missing) the Optuna study of ``spec``.

    Raises:
        StorageError: the study is missing (``create=False``), or the storage holds a study of the
            same name made from a different design.
    """
    journal = _journal_path(spec, url)
    if not create and journal is not None and not journal.exists():
        raise StorageError(
            f"no study {spec.name!r} in {url or spec.run.storage or spec.results_path} (no "
            f"{journal}). Fix: run `sensitivity run {spec.path or '<study.toml>'}` (or "
            "`sensitivity queue`) first."
        )
    try:
        storage = open_storage(spec, url)
        sampler = _sampler(spec, salt)
        return _open_study(spec, storage, sampler, url=url, create=create)
    except (StorageError, OSError):
        raise
    except Exception as err:  # noqa: BLE001 - a bad URL or database: one line with the fix
        raise StorageError(_storage_problem(spec, url, err)) from None


def _journal_path(spec: StudySpec, url: str | None) -> Path | None:
    """The journal file of ``spec`` (``None`` for a database URL)."""
    url = url or spec.run.storage
    if not url:
        return spec.results_path / "journal.log"
    if url.endswith(".log") or url.endswith(".jsonl"):
        return Path(url)
    return None


def _storage_problem(spec: StudySpec, url: str | None, err: Exception) -> str:
    url = url or spec.run.storage
    text = " ".join(str(err).split())[:300]
    if url and url.startswith("sqlite:///"):
        folder = Path(url[len("sqlite:///") :]).parent
        if not folder.is_dir():
            return (
                f"`--storage {url}`: the folder {folder} does not exist. Fix: create it "
                f"(mkdir -p {folder}) or use a path in an existing folder."
            )
    return (
        f"`--storage {url}` cannot be opened ({type(err).__name__}: {text}). Fix: a journal file "
        "path ending in .log, or an SQLAlchemy URL such as sqlite:///results/study.db or "
        "postgresql://user@host/db."
    )


def _open_study(
    spec: StudySpec, storage: Any, sampler: Any, *, url: str | None, create: bool
) -> StudyHandle:
    fp = design_fingerprint(spec)
    try:
        study = optuna.load_study(study_name=spec.name, storage=storage, sampler=sampler)
    except KeyError:
        if not create:
            raise StorageError(
                f"no study {spec.name!r} in {url or spec.run.storage or spec.results_path}. "
                f"Fix: run `sensitivity run {spec.path or '<study.toml>'}` first."
            ) from None
        study = optuna.create_study(
            study_name=spec.name,
            storage=storage,
            sampler=sampler,
            direction=spec.metric.direction,
            load_if_exists=True,
        )
        if "fingerprint" not in study.user_attrs:
            study.set_user_attr("fingerprint", fp)
            study.set_user_attr("metric", spec.metric.name)
            study.set_user_attr("design_total", design_total(spec))
    stored = study.user_attrs.get("fingerprint")
    if stored is not None and stored != fp:
        raise StorageError(
            f"the storage of study {spec.name!r} was made from a different design "
            f"(fingerprint {stored}, this file {fp}). Fix: rename the study ([study] name) or "
            f"delete {spec.results_path}."
        )
    storage_obj = study._storage  # the concrete storage Optuna wrapped (cached RDB or journal)
    study_id = storage_obj.get_study_id_from_name(spec.name)
    design = None if spec.design.kind == "tpe" else make_design(spec)
    total = design_total(spec)
    return StudyHandle(spec, study, storage_obj, study_id, design, total)


def enqueue_point(
    h: StudyHandle, point: DesignPoint, *, attempt: int, retry_of: int | None
) -> None:
    """Queue ``point`` as a WAITING trial whose parameters and distributions are already set
    (one journal line; no per-parameter writes when a worker claims it)."""
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import create_trial

    from sensitivity.design import distribution, encode

    applicable = h.spec.params_for(point.strategy)
    params = {p.name: encode(p, point.params[p.name]) for p in applicable}
    dists = {p.name: distribution(p) for p in applicable}
    params["strategy"] = point.strategy
    dists["strategy"] = CategoricalDistribution(list(h.spec.strategies))
    params["seed"] = point.seed
    dists["seed"] = CategoricalDistribution(list(h.spec.design.seeds))
    h.study.add_trial(
        create_trial(
            state=TrialState.WAITING,
            params=params,
            distributions=dists,
            user_attrs={
                "design_index": point.index,
                "strategy": point.strategy,
                "seed": point.seed,
                "attempt": attempt,
                "retry_of": retry_of,
            },
            system_attrs={"fixed_params": params},
        )
    )


def _by_index(trials: list[FrozenTrial]) -> dict[int, list[FrozenTrial]]:
    out: dict[int, list[FrozenTrial]] = {}
    for t in trials:
        idx = t.user_attrs.get("design_index")
        if idx is not None:
            out.setdefault(int(idx), []).append(t)
    return out


def sync_design(h: StudyHandle) -> int:
    """Queue every design point that has no waiting, running or complete trial.

    Call under :func:`harness_lock`. Returns the number of trials queued. For adaptive designs
    nothing is queued (trials are created when a worker asks).
    """
    if h.design is None:
        return 0
    groups = _by_index(h.trials())
    queued = 0
    for point in h.design:
        ts = groups.get(point.index, [])
        if any(t.state in ACTIVE for t in ts):
            continue
        last = max(ts, key=lambda t: t.number) if ts else None
        enqueue_point(h, point, attempt=len(ts), retry_of=None if last is None else last.number)
        queued += 1
    return queued


def point_of(h: StudyHandle, t: FrozenTrial) -> DesignPoint:
    """The design point a trial belongs to (adaptive designs: rebuilt from its attributes)."""
    idx = int(t.user_attrs["design_index"])
    if h.design is not None:
        return h.design[idx]
    from sensitivity.design import decode

    applicable = h.spec.params_for(t.user_attrs["strategy"])
    params = {p.name: decode(p, t.params[p.name]) for p in applicable if p.name in t.params}
    return DesignPoint(idx, t.user_attrs["strategy"], int(t.user_attrs["seed"]), params)


def requeue(h: StudyHandle, t: FrozenTrial) -> bool:
    """Queue a retry of failed trial ``t`` unless its point already failed ``retries + 1`` times
    or has another live or complete trial. Returns whether a retry was queued."""
    idx = int(t.user_attrs["design_index"])
    ts = _by_index(h.trials()).get(idx, [])
    if any(o.state in ACTIVE and o.number != t.number for o in ts):
        return False
    failures = sum(o.state == TrialState.FAIL for o in ts)
    if failures > h.spec.run.retries:
        return False
    enqueue_point(h, point_of(h, t), attempt=len(ts), retry_of=t.number)
    return True


def fail_trial(h: StudyHandle, t: FrozenTrial, reason: str, *, retry: bool = True) -> bool:
    """Mark running trial ``t`` failed with ``reason``; queue a retry. False if already finished."""
    tid = h.trial_id(t.number)
    try:
        h.storage.set_trial_user_attr(tid, "status", "failed")
        h.storage.set_trial_user_attr(tid, "reason", reason)
        h.storage.set_trial_state_values(tid, TrialState.FAIL)
    except UpdateFinishedTrialError:
        return False
    if retry:
        requeue(h, h.study.get_trials(deepcopy=False)[t.number])
    return True


def fail_stale(h: StudyHandle, *, now: float | None = None) -> list[int]:
    """Fail-and-requeue RUNNING trials whose heartbeat is older than ``run.grace_period``.

    Returns the numbers of the trials failed by this call.
    """
    now = time.time() if now is None else now
    grace = h.spec.run.grace_period
    failed = []
    for t in h.trials((TrialState.RUNNING,)):
        hb = t.user_attrs.get("heartbeat")
        beat, who = (hb[0], hb[1]) if isinstance(hb, list | tuple) else (hb, "unknown worker")
        if beat is None and t.datetime_start is not None:
            beat = t.datetime_start.timestamp()
        if beat is None or now - float(beat) <= grace:
            continue
        reason = f"stale: no heartbeat from {who} for {now - float(beat):.0f} s (worker died?)"
        if fail_trial(h, t, reason):
            failed.append(t.number)
    return failed


class Heartbeat:
    """Context manager: a daemon thread writes ``heartbeat = [time.time(), "host:pid"]`` every
    ``run.heartbeat_interval`` seconds (one journal line per beat)."""

    def __init__(self, h: StudyHandle, trial_id: int) -> None:
        self._h, self._tid = h, trial_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._h.spec.run.heartbeat_interval):
            with contextlib.suppress(Exception):
                self._h.storage.set_trial_user_attr(
                    self._tid, "heartbeat", [time.time(), worker_id()]
                )

    def __enter__(self) -> Heartbeat:
        self._thread.start()  # the first beat was written when the trial was claimed
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class CountsTicker:
    """Report :func:`counts` to ``on_progress`` at most once per ``interval`` seconds.

    ``counts`` reads every trial of the storage (milliseconds per call, more than the rest of
    the harness loop per trial), so per-trial progress goes through a ticker: ``tick()``
    reports only if ``interval`` has passed since the last report, ``tick(force=True)``
    always (first and final counts)."""

    def __init__(self, h: StudyHandle, on_progress: Any | None, interval: float = 1.0) -> None:
        self.h, self.on_progress, self.interval = h, on_progress, float(interval)
        self._last = -math.inf

    def __call__(self, *_: object, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            self.on_progress(counts(self.h))


def counts(h: StudyHandle) -> dict[str, int]:
    """Design progress: total, done (complete points), running, waiting, failed, remaining."""
    trials = h.trials()
    groups = _by_index(trials)
    done = sum(any(t.state == TrialState.COMPLETE for t in ts) for ts in groups.values())
    running = sum(t.state == TrialState.RUNNING for t in trials)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    failed_points = sum(all(t.state == TrialState.FAIL for t in ts) for ts in groups.values() if ts)
    failed_trials = sum(t.state == TrialState.FAIL for t in trials)
    return {
        "total": h.total,
        "done": done,
        "running": running,
        "waiting": waiting,
        "failed": failed_points,
        "failed_trials": failed_trials,
        "remaining": max(h.total - done, 0),
    }
