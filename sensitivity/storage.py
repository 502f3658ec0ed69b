"""Study storage: Optuna journal file by default, any Optuna storage URL on request.

Layout of ``results/<study>/``::

    journal.log      Optuna journal (:class:`sensitivity.journal.JournalFile`: survives torn writes)
    journal.log.harness.lock   cross-process lock of the harness (see :mod:`sensitivity.locks`)
    resolved.json    the resolved study, design size, versions and command lines of every run
    .harness.lock    fcntl lock serialising ``resolved.json`` / ``design.csv`` writes on this host

Optuna's own tools read the journal, e.g.
``optuna trials --storage results/quickstart/journal.log --storage-class JournalFileBackend
--study-name quickstart`` or ``optuna-dashboard results/quickstart/journal.log``.

**Coordination.** Every read-decide-write step (queueing the design, retrying a failed or stale
trial, asking an adaptive sampler) runs inside :func:`coordinated`, the storage's own exclusive
lock (PostgreSQL advisory lock, or a lock file next to the journal / SQLite database), so any
number of hosts × workers sharing one storage queue and complete each design point (and each
retry attempt) exactly once. Claiming a queued trial needs no lock: Optuna's WAITING -> RUNNING
transition is atomic (row lock in an RDB, first log line wins in the journal).

**Opening** (:func:`connect`) is idempotent; concurrent first opens of a fresh database create
the schema one at a time (under an advisory lock on PostgreSQL, the lock file on SQLite) and
retry with backoff on a remaining race. A storage that cannot be opened raises
:class:`~sensitivity.errors.StorageUnavailable` (exit code 2): one line with the URL (password
masked), the error and the fix.

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
import random
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage
from optuna.trial import FrozenTrial, TrialState

from sensitivity.design import DesignPoint, design_total, make_design
from sensitivity.errors import Interrupted, StorageError, StorageUnavailable
from sensitivity.hostid import worker_id
from sensitivity.journal import JournalFile, check_journal
from sensitivity.locks import AdvisoryLock, FileLock, StorageLock, ThreadLock, advisory_key
from sensitivity.nested import thaw
from sensitivity.spec import StudySpec

__all__ = [
    "StudyHandle",
    "Backend",
    "connect",
    "coordinated",
    "open_storage",
    "open_study",
    "harness_lock",
    "design_fingerprint",
    "sync_design",
    "enqueue_point",
    "fail_stale",
    "waiting_ids",
    "running_trials",
    "Heartbeat",
    "beat",
    "worker_id",
    "counts",
    "mask_url",
    "CountsTicker",
]

optuna.logging.set_verbosity(optuna.logging.WARNING)

ACTIVE = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)
OPEN_ATTEMPTS = 6  # schema-creation races: retry with backoff 0.1, 0.2, ... 1.6 s (+ jitter)


@dataclass
class Backend:
    """An opened storage, the lock that coordinates every process using it, and its label."""

    storage: BaseStorage
    lock: StorageLock
    label: str  # path or URL with the password masked


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", url)


def _is_journal(url: str) -> bool:
    return url.endswith((".log", ".jsonl"))


def journal_storage(path: str | Path) -> JournalStorage:
    """Optuna ``JournalStorage`` on the file ``path`` (torn tails repaired on open).

    Raises:
        StorageUnavailable: the file cannot be created or read, or is damaged in the middle.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = JournalFile(str(path))
    except OSError as err:
        raise StorageUnavailable(
            f"cannot open the journal {path}: {err.strerror or err}. Fix: choose a --results-dir "
            f"/ --storage path in a writable folder."
        ) from None
    try:
        return JournalStorage(backend)
    except ValueError:  # JSONDecodeError: a record in the middle does not parse
        check_journal(path)
        raise


def _fix_hint(url: str, err: BaseException) -> str:
    text = f"{type(err).__name__} {err}".lower()
    if "can't load plugin: sqlalchemy.dialects" in text:
        return ("write an SQLAlchemy URL such as postgresql+psycopg://user:password@host:5432/db"
                " or sqlite:///path/study.db, or a journal file path ending in .log")  # fmt: skip
    if "psycopg2" in text or "no module named" in text or "can't load plugin" in text:
        return ("install the driver (pip install '.[postgres]', psycopg 3) and write the URL as "
                "postgresql+psycopg://user:password@host:5432/database")  # fmt: skip
    if "could not parse" in text or "argumenterror" in text:
        return ("write an SQLAlchemy URL such as postgresql+psycopg://user:password@host:5432/db"
                " or sqlite:///path/study.db, or a journal file path ending in .log")  # fmt: skip
    if "password authentication failed" in text or "no password supplied" in text:
        return "correct the user and password in the URL (or in ~/.pgpass)"
    if "does not exist" in text and "database" in text:
        return "create the database (createdb NAME) or correct its name in the URL"
    if "role" in text and "does not exist" in text:
        return "create the user (createuser NAME) or correct it in the URL"
    if "unable to open database file" in text:
        return "create the folder of the SQLite file or correct the path"
    if "connection refused" in text or "could not translate host" in text or "timeout" in text \
            or "name or service not known" in text or "no such file or directory" in text:
        return "start the database server, or correct host and port in the URL"  # fmt: skip
    return "check the URL and that the database server accepts connections"


def _unavailable(url: str, err: BaseException) -> StorageUnavailable:
    first = " ".join(str(getattr(err, "orig", None) or err).split())[:300]
    return StorageUnavailable(
        f"`--storage {mask_url(url)}` cannot be opened ({type(err).__name__}: {first}). "
        f"Fix: {_fix_hint(url, err)}."
    )


def _transient(err: BaseException) -> bool:
    """A race of concurrent first opens (duplicate type/table/row, deadlock, lock timeout)."""
    from sqlalchemy import exc

    if isinstance(err, exc.IntegrityError):
        return True
    text = str(err).lower()
    return isinstance(err, exc.DBAPIError) and any(
        s in text for s in ("already exists", "deadlock", "database is locked", "too many clients",
                            "could not serialize", "duplicate key", "timeout expired",
                            "the database system is starting up")
    )  # fmt: skip


def _retrying(fn: Callable[[], Any]) -> Any:
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return fn()
        except Exception as err:  # noqa: BLE001 - classified below
            if attempt == OPEN_ATTEMPTS - 1 or not _transient(err):
                raise
            time.sleep(0.1 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")


def _rdb(spec: StudySpec, url: str) -> Backend:
    import sqlalchemy
    from optuna.storages import RDBStorage

    u = sqlalchemy.engine.make_url(url)
    dialect = u.get_backend_name()
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if dialect == "postgresql":
        lock_engine = sqlalchemy.create_engine(url, pool_size=1, max_overflow=1,
                                               pool_pre_ping=True)  # fmt: skip
        with AdvisoryLock(lock_engine, advisory_key("sensitivity:schema")):
            rdb = _retrying(lambda: RDBStorage(url, engine_kwargs=engine_kwargs))
        lock: StorageLock = AdvisoryLock(lock_engine, advisory_key(f"sensitivity:{spec.name}"))
        return Backend(rdb, lock, mask_url(url))
    if dialect == "sqlite":
        db = u.database or ""
        if db in ("", ":memory:") or db.startswith("file::memory:"):
            return Backend(_retrying(lambda: RDBStorage(url)), ThreadLock(), url)
        folder = Path(db).parent
        if not folder.is_dir():
            raise StorageUnavailable(
                f"`--storage {url}` cannot be opened: the folder {folder} does not exist. Fix: "
                f"create it (mkdir -p {folder}) or correct the path."
            )
        lock = FileLock(f"{db}.harness.lock")
        with lock:
            rdb = _retrying(lambda: RDBStorage(url, engine_kwargs=engine_kwargs))
        return Backend(rdb, lock, url)
    rdb = _retrying(lambda: RDBStorage(url, engine_kwargs=engine_kwargs))
    warnings.warn(
        f"storage {mask_url(url)}: cross-host coordination is implemented for PostgreSQL, SQLite "
        f"and the journal file; with {dialect} only processes of this host are coordinated "
        f"(lock file in {spec.results_path}).",
        stacklevel=3,
    )
    spec.results_path.mkdir(parents=True, exist_ok=True)
    return Backend(rdb, FileLock(spec.results_path / ".coordination.lock"), mask_url(url))


def connect(spec: StudySpec, url: str | None = None) -> Backend:
    """Open the storage of ``spec``: ``url`` (or ``run.storage``) if given, else the journal
    file ``results/<study>/journal.log``; with the lock that coordinates its users.

    Raises:
        StorageUnavailable: unreachable or misconfigured (one line: masked URL, error, fix).
    """
    url = url or spec.run.storage
    if not url or _is_journal(url):
        path = Path(url) if url else spec.results_path / "journal.log"
        storage = journal_storage(path)
        return Backend(storage, FileLock(f"{path}.harness.lock"), str(path))
    try:
        return _rdb(spec, url)
    except (StorageError, Interrupted):
        raise
    except Exception as err:  # noqa: BLE001 - any driver / URL / server error: one clear line
        raise _unavailable(url, err) from None


def open_storage(spec: StudySpec, url: str | None = None) -> BaseStorage:
    """The storage of ``spec`` (see :func:`connect`)."""
    return connect(spec, url).storage


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
    lock: StorageLock = None  # type: ignore[assignment]  # set by open_study
    rdb: Any = None  # the uncached RDBStorage (SQL-filtered reads), None for the journal

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
    backend = connect(spec, url)
    try:
        return _open_study(spec, backend, _sampler(spec, salt), create=create)
    except (StorageError, OSError, Interrupted):
        raise
    except Exception as err:  # noqa: BLE001 - a bad URL or database: one line with the fix
        raise _unavailable(url or spec.run.storage or backend.label, err) from None


def _journal_path(spec: StudySpec, url: str | None) -> Path | None:
    """The journal file of ``spec`` (``None`` for a database URL)."""
    url = url or spec.run.storage
    if not url:
        return spec.results_path / "journal.log"
    if _is_journal(url):
        return Path(url)
    return None


def _open_study(spec: StudySpec, backend: Backend, sampler: Any, *, create: bool) -> StudyHandle:
    storage = backend.storage
    fp = design_fingerprint(spec)
    try:
        study = optuna.load_study(study_name=spec.name, storage=storage, sampler=sampler)
    except KeyError:
        if not create:
            raise StorageError(
                f"no study {spec.name!r} in {backend.label}. "
                f"Fix: run `sensitivity run {spec.path or '<study.toml>'}` first."
            ) from None
        with backend.lock:  # one creator; the others load what it made
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
    rdb = backend.storage if hasattr(backend.storage, "engine") else None
    return StudyHandle(spec, study, storage_obj, study_id, design, total, backend.lock, rdb)


CLAIM_CANDIDATES = 16  # WAITING trials a worker looks at per claim (shuffled: fewer collisions)


def waiting_ids(h: StudyHandle, limit: int = CLAIM_CANDIDATES) -> list[int]:
    """Trial ids of up to ``limit`` of the oldest WAITING trials, in random order.

    RDB: one SQL query on Optuna's ``trials`` table (reading every unfinished trial through
    Optuna's cached storage costs ~1 ms per trial on PostgreSQL); journal: the in-memory replay.
    """
    ids: list[int] | None = None
    if h.rdb is not None:
        from sqlalchemy import text

        try:
            with h.rdb.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT trial_id FROM trials WHERE study_id = :s AND state = 'WAITING' "
                         "ORDER BY trial_id LIMIT :n"), {"s": h.study_id, "n": limit},
                ).all()  # fmt: skip
            ids = [int(r[0]) for r in rows]
        except Interrupted:
            raise
        except Exception:  # noqa: BLE001 - another schema: Optuna's generic read below
            ids = None
    if ids is None:
        ids = [t._trial_id for t in h.trials((TrialState.WAITING,))[:limit]]
    random.shuffle(ids)
    return ids


def running_trials(h: StudyHandle) -> list[FrozenTrial]:
    """RUNNING trials (RDB: filtered in SQL, not through Optuna's cache of unfinished trials)."""
    if h.rdb is not None:
        return h.rdb.get_all_trials(h.study_id, deepcopy=False, states=(TrialState.RUNNING,))
    return h.trials((TrialState.RUNNING,))


def coordinated(h: StudyHandle) -> StorageLock:
    """The exclusive section shared by every process of every host using ``h``'s storage:
    ``with coordinated(h): read trials, decide, write``."""
    return h.lock


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


def sync_design(h: StudyHandle, *, respect_retries: bool = False) -> int:
    """Queue every design point that has no waiting, running or complete trial (coordinated:
    exactly once across hosts). ``respect_retries``: skip points that already failed more than
    ``run.retries`` times (workers repairing a retry lost with a killed host); a new ``run``
    passes False and gives failed points another round.

    Returns the number of trials queued. For adaptive designs nothing is queued (trials are
    created when a worker asks).
    """
    if h.design is None:
        return 0
    with coordinated(h):
        groups = _by_index(h.trials())
        queued = 0
        for point in h.design:
            ts = groups.get(point.index, [])
            if any(t.state in ACTIVE for t in ts):
                continue
            if respect_retries and sum(t.state == TrialState.FAIL for t in ts) > h.spec.run.retries:
                continue
            last = max(ts, key=lambda t: t.number) if ts else None
            enqueue_point(h, point, attempt=len(ts),
                          retry_of=None if last is None else last.number)  # fmt: skip
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
    with coordinated(h):
        ts = _by_index(h.trials()).get(idx, [])
        if any(o.state in ACTIVE and o.number != t.number for o in ts):
            return False
        failures = sum(o.state == TrialState.FAIL for o in ts)
        if failures > h.spec.run.retries:
            return False
        enqueue_point(h, point_of(h, t), attempt=len(ts), retry_of=t.number)
    return True


def fail_trial(h: StudyHandle, t: FrozenTrial, reason: str, *, retry: bool = True) -> bool:
    """Mark running trial ``t`` failed with ``reason``; queue a retry. False if already finished
    (by its worker, or failed by another host first: coordinated, so one host fails it)."""
    tid = h.trial_id(t.number)
    with coordinated(h):
        if h.storage.get_trial(tid).state.is_finished():
            return False
        try:
            h.storage.set_trial_user_attr(tid, "status", "failed")
            h.storage.set_trial_user_attr(tid, "reason", reason)
            h.storage.set_trial_state_values(tid, TrialState.FAIL)
        except UpdateFinishedTrialError:
            return False
        if retry:
            requeue(h, h.storage.get_trial(tid))
    return True


def fail_stale(h: StudyHandle, *, now: float | None = None) -> list[int]:
    """Fail-and-requeue RUNNING trials whose heartbeat is older than ``run.grace_period``.

    Returns the numbers of the trials failed by this call.
    """
    now = time.time() if now is None else now
    grace = h.spec.run.grace_period
    failed = []
    for t in running_trials(h):
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


def beat(h: StudyHandle, trial_id: int) -> None:
    """Write ``heartbeat = [time.time(), "host:pid"]`` on trial ``trial_id``."""
    h.storage.set_trial_user_attr(trial_id, "heartbeat", [time.time(), worker_id()])


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
