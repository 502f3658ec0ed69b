"""Run MGRIT on the model problems with the MPI communicator; each rank saves its results.

Usage: mpiexec -n P python mgrit_ranks.py OUTDIR
Writes OUTDIR/<case>_rank<r>.npz with ``indices``, ``states`` (owned fine states, ascending),
``history`` (residual history), ``iterations`` and ``modelled_time``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from solver.mgrit import MGRIT, MGRITConfig
from solver.mgrit.examples import LinearDecay, TanhSystem
from solver.parallel import abort_on_error

N_LAYERS = 48


def cases() -> dict[str, tuple[object, MGRITConfig]]:
    """The problems and settings compared across rank counts (same on every rank)."""
    rng = np.random.default_rng(7)
    A = rng.standard_normal((3, 3))
    linear = LinearDecay(np.array([-1.0, -4.0]), 0.05, np.array([1.0, -2.0]), seed=3)
    tanh = TanhSystem(A, rng.standard_normal(3), 0.1, rng.standard_normal(3), seed=5)
    return {
        "linear_v_f": (linear, MGRITConfig(max_iterations=6, abs_tol=0.0)),
        "linear_fcf_2lvl": (linear, MGRITConfig(max_levels=2, nrelax_fine=1, abs_tol=1e-12)),
        "tanh_v": (tanh, MGRITConfig(coarsening_factor_fine=4, abs_tol=1e-12)),
        "tanh_f_skip": (
            tanh,
            MGRITConfig(cycle="F", skip_first_down=True, c_weight=1.3, abs_tol=1e-12, norm="inf"),
        ),
        "tanh_serial": (tanh, MGRITConfig(max_levels=1)),
    }


def main(outdir: Path) -> None:
    from solver.parallel.mpi import world  # mpi4py only in the MPI process

    comm = world()
    with abort_on_error(comm):
        for name, (problem, config) in cases().items():
            result = MGRIT(problem, N_LAYERS, config, comm).solve()
            indices = np.array(sorted(result.states), dtype=np.int64)
            np.savez(
                outdir / f"{name}_rank{comm.rank}.npz",
                indices=indices,
                states=np.stack([result.states[t] for t in indices]),
                history=result.residual_history,
                iterations=result.iterations,
                modelled_time=result.cost.modelled_time,
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
