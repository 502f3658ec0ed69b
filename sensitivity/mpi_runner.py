"""MPI rank groups: ``mpiexec -n P python -m sensitivity run study.toml --ranks-per-trial R``.

The world communicator splits into ``P / R`` groups of ``R`` consecutive ranks. World rank 0
prepares the study (validation, design queue) and tells everybody whether that worked. In each
group the leader (group rank 0) claims a trial from the storage, broadcasts the design point to
its group as a small JSON message, the whole group trains it (layer-parallel over the group
via ``solver.parallel.mpi.MPIComm(group)`` when the study has ``[training.parallel]``;
otherwise every rank of the group trains the same serial run), and the leader stores the
outcome. Only leaders touch the storage.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sensitivity.design import DesignPoint
from sensitivity.errors import SpecError, StudyError
from sensitivity.objective import run_trial
from sensitivity.runner import WorkerReport, claim, signals_interrupt, store_outcome
from sensitivity.spec import StudySpec
from sensitivity.storage import Heartbeat, fail_stale, open_study

__all__ = ["split_groups", "run_mpi"]


def split_groups(world: Any, ranks_per_trial: int) -> tuple[Any, int, int]:
    """Split ``world`` into groups of ``ranks_per_trial`` consecutive ranks.

    Returns ``(group communicator, group index, number of groups)``.

    Raises:
        SpecError: the world size is not a multiple of ``ranks_per_trial``.
    """
    size, rank = world.Get_size(), world.Get_rank()
    if ranks_per_trial < 1 or size % ranks_per_trial:
        raise SpecError(
            f"`--ranks-per-trial` must divide the number of MPI ranks; got ranks_per_trial="
            f"{ranks_per_trial}, ranks={size}. Fix: run a multiple of {ranks_per_trial} ranks "
            f"or use a divisor of {size}."
        )
    color = rank // ranks_per_trial
    return world.Split(color, rank), color, size // ranks_per_trial


def _solver_comm(spec: StudySpec, group: Any) -> Any | None:
    if spec.parallel is None:
        return None
    from solver.parallel.mpi import MPIComm

    return MPIComm(group)


def run_mpi(
    spec: StudySpec,
    *,
    ranks_per_trial: int,
    storage: str | None = None,
    argv: list[str] | None = None,
    world: Any | None = None,
    prepare_study: bool = True,
) -> WorkerReport:
    """Run the study on MPI rank groups; returns this rank's (leader's) report.

    Raises:
        StudyError: preparation failed (raised on every rank with rank 0's message).
    """
    if world is None:
        from mpi4py import MPI

        world = MPI.COMM_WORLD
    group, color, n_groups = split_groups(world, ranks_per_trial)
    leader = group.Get_rank() == 0
    message = None
    if world.Get_rank() == 0 and prepare_study:
        from sensitivity.session import prepare

        try:
            prepare(spec, storage=storage, argv=argv, workers=n_groups)
        except StudyError as err:
            message = f"{type(err).__name__}: {err}"
    message = world.bcast(message, root=0)
    if message is not None:
        raise StudyError(message)
    h = open_study(spec, url=storage, create=False, salt=color) if leader else None
    comm = _solver_comm(spec, group)
    report = WorkerReport()
    with signals_interrupt():
        while True:
            payload = None
            trial = None
            if leader:
                assert h is not None
                while True:
                    fail_stale(h)
                    got = claim(h)
                    if got is not None or not h.trials((_running(),)):
                        break
                    time.sleep(min(1.0, spec.run.heartbeat_interval))
                if got is not None:
                    trial, point = got
                    trial.set_user_attr("mpi", {"ranks": group.Get_size(), "group": color})
                    payload = json.dumps(
                        {
                            "index": point.index,
                            "strategy": point.strategy,
                            "seed": point.seed,
                            "params": dict(point.params),
                        }  # fmt: skip
                    )
            payload = group.bcast(payload, root=0)
            if payload is None:
                break
            msg = json.loads(payload)
            point = DesignPoint(msg["index"], msg["strategy"], msg["seed"], msg["params"])
            if leader:
                assert h is not None and trial is not None
                with Heartbeat(h, trial._trial_id):
                    outcome = run_trial(spec, point, comm=comm)
                store_outcome(h, trial, outcome)
                report.trials += 1
                status = outcome.record["status"]
                report.complete += status == "complete"
                report.diverged += status == "diverged"
                report.failed += status == "failed"
            else:
                run_trial(spec, point, comm=comm)
    group.Free()
    world.Barrier()
    return report


def _running() -> Any:
    from optuna.trial import TrialState

    return TrialState.RUNNING
