"""MPI rank groups: ``mpiexec -n P python -m sensitivity run study.toml --ranks-per-trial R``.

Everything goes through :mod:`solver.parallel`'s communicator (``MPIComm``); nothing here
imports mpi4py. The world splits into ``P / R`` groups of ``R`` consecutive ranks. Every rank
loads the study file and world rank 0 prepares the study (validation, design queue); both
steps are checked collectively (:func:`solver.parallel.agree`), so an error on one rank ends
every rank with its one-line reason instead of leaving the others in a collective.

In each group the leader (group rank 0) runs the one worker loop of the harness
(:func:`sensitivity.runner.work`): it claims a trial, hands the design point to its group as a
small JSON text in a float64 broadcast, the whole group trains it (layer-parallel over the
group when the study has ``[training.parallel]``; otherwise every rank of the group trains the
same serial run), and the leader stores the outcome. Only leaders touch the storage; world
rank 0 prints the progress line.

A :class:`~solver.parallel.guard.JobGuard` watches every rank: on SIGINT/SIGTERM (also sent to
``mpiexec``, which forwards them) or an error on any rank, each leader marks its running trial
failed and re-queues it, world rank 0 prints one line, and the whole job ends with
``MPI_Abort`` (exit code 128 + signal), within seconds, also when ranks are blocked inside a
collective.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sensitivity.design import DesignPoint
from sensitivity.errors import Interrupted, SpecError
from sensitivity.objective import Outcome, run_trial
from sensitivity.runner import TrialSlot, WorkerReport, work
from sensitivity.spec import StudySpec
from sensitivity.storage import CountsTicker, counts, open_study

__all__ = ["split_groups", "run_mpi", "send_json", "recv_json"]


def split_groups(world: Any, ranks_per_trial: int) -> tuple[Any, int, int]:
    """Split ``world`` (an ``MPIComm``) into groups of ``ranks_per_trial`` consecutive ranks.

    Returns ``(group communicator, group index, number of groups)``.

    Raises:
        SpecError: the world size is not a multiple of ``ranks_per_trial``.
    """
    size, rank = world.size, world.rank
    if ranks_per_trial < 1 or size % ranks_per_trial:
        raise SpecError(
            f"`--ranks-per-trial` must divide the number of MPI ranks; got ranks_per_trial="
            f"{ranks_per_trial}, ranks={size}. Fix: run a multiple of {ranks_per_trial} ranks "
            f"or use a divisor of {size}."
        )
    color = rank // ranks_per_trial
    return world.split(color, rank), color, size // ranks_per_trial


def send_json(comm: Any, obj: Any) -> None:
    """Broadcast ``obj`` as JSON from rank 0 of ``comm``: length, then one float64 per byte."""
    data = np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8).astype(np.float64)
    comm.bcast(np.array([float(data.size)]), root=0)
    comm.bcast(data, root=0)


def recv_json(comm: Any) -> Any:
    """Receive what rank 0 sent with :func:`send_json`."""
    n = int(comm.bcast(np.zeros(1), root=0)[0])
    data = comm.bcast(np.zeros(n), root=0)
    return json.loads(data.astype(np.uint8).tobytes().decode())


def _point_message(point: DesignPoint | None) -> dict | None:
    if point is None:
        return None
    return {"index": point.index, "strategy": point.strategy, "seed": point.seed,
            "params": dict(point.params)}  # fmt: skip


def _group_runner(solver_comm: Any | None, world_rank: int) -> Callable[..., Outcome]:
    """:func:`run_trial` for one rank of a group. When the ranks of a group communicate while
    training (layer-parallel), a trial that raised on this rank (set-up or training) leaves the
    others waiting for it in a collective: the whole job ends with this rank's one-line reason,
    after the leaders marked their trials failed and re-queued them (the guard)."""
    communicating = solver_comm is not None and solver_comm.size > 1

    def run(spec: StudySpec, point: DesignPoint, **kwargs: Any) -> Outcome:
        outcome = run_trial(spec, point, **kwargs)
        if communicating and outcome.record.get("status") == "failed":
            from solver.parallel.guard import active_guard

            reason = f"rank {world_rank}: trial failed: {outcome.record.get('reason')}"
            print(f"sensitivity: {reason}; stopping all ranks", file=sys.stderr, flush=True)
            guard = active_guard()
            if guard is not None:
                guard.stop(reason, 1, notify=True, print_reason=False)
        return outcome

    return run


def _follow(spec: StudySpec, group: Any, solver_comm: Any | None, run: Callable) -> None:
    """A non-leader rank: train each point its leader sends, until it sends ``None``."""
    while (msg := recv_json(group)) is not None:
        point = DesignPoint(msg["index"], msg["strategy"], msg["seed"], msg["params"])
        run(spec, point, comm=solver_comm)


def run_mpi(
    spec: StudySpec | Callable[[], StudySpec],
    *,
    ranks_per_trial: int,
    storage: str | None = None,
    argv: list[str] | None = None,
    world: Any | None = None,
    prepare_study: bool = True,
    on_progress: Callable[[dict[str, int]], None] | None = None,
    max_trials: int | None = None,
) -> WorkerReport:
    """Run the study on MPI rank groups; returns this rank's (leader's) report.

    ``spec`` may be a function that loads it (called on every rank, checked collectively).
    ``on_progress(counts)`` is called on world rank 0 after each of its trials.

    Raises:
        StudyError: loading or preparation failed on this rank (the others raise
            :class:`~solver.errors.RemoteRankError`).
    """
    from solver.parallel import agree
    from solver.parallel.guard import guarded

    if world is None:
        from solver.parallel.mpi import world as mpi_world

        world = mpi_world()
    with guarded(world, name="sensitivity") as guard:
        spec = agree(world, spec if callable(spec) else (lambda: spec))
        group, color, n_groups = agree(world, lambda: split_groups(world, ranks_per_trial))
        leader = group.rank == 0

        def prepare_here() -> None:
            if world.rank == 0 and prepare_study:
                from sensitivity.session import prepare

                prepare(spec, storage=storage, argv=argv, workers=n_groups)

        agree(world, prepare_here)
        h = agree(
            world,
            lambda: open_study(spec, url=storage, create=False, salt=color) if leader else None,
        )
        solver_comm = group if spec.parallel is not None else None
        report = WorkerReport()
        if leader:
            slot = TrialSlot(h)
            if guard is not None:
                guard.note = "running trials are marked failed and re-queued"
                guard.on_stop(lambda reason: _fail_and_hold(h, slot, reason))

            def share(trial: Any, point: DesignPoint) -> None:
                trial.set_user_attr("mpi", {"ranks": group.size, "group": color})
                if group.size > 1:
                    send_json(group, _point_message(point))

            show = on_progress if world.rank == 0 else None
            ticker = CountsTicker(h, show)  # counts at most once a second
            ticker(force=True)
            try:
                report = work(
                    h, slot=slot, comm=solver_comm, max_trials=max_trials,
                    runner=_group_runner(solver_comm, world.rank),
                    share=share,
                    on_trial=ticker if show is not None else None,
                    handle_signals=guard is None,
                )  # fmt: skip
            except Interrupted:
                if guard is None:
                    raise
                time.sleep(60)  # the guard records and aborts the job; never returns
                raise
            if group.size > 1:
                send_json(group, None)
        else:
            _follow(spec, group, solver_comm, _group_runner(solver_comm, world.rank))
        world.barrier()
        if leader and world.rank == 0 and on_progress is not None:
            on_progress(counts(h))  # the final count, after every group finished
        group.free()
    return report


def _fail_and_hold(h: Any, slot: TrialSlot, reason: str) -> None:
    """Guard callback: fail-and-requeue the running trial, then hold the storage's thread lock
    until ``MPI_Abort`` so that no other thread of this rank is cut off in the middle of a
    journal write (which would leave the journal's file lock behind)."""
    slot.fail(f"{reason} (retryable)", _signum(reason))
    lock = getattr(h.storage, "_thread_lock", None)
    if lock is not None:
        lock.acquire(timeout=2.0)


def _signum(reason: str) -> int:
    import signal

    for s in (signal.SIGINT, signal.SIGTERM):
        if s.name in reason:
            return int(s)
    return int(signal.SIGTERM)
