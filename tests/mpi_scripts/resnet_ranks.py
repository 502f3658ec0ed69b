"""Layer-parallel ResNet evaluations under MPI; each rank saves objective, gradient, residuals.

Usage: mpiexec -n P python resnet_ranks.py OUTDIR -> OUTDIR/<case>_rank<r>.npz with
``objective``, ``gradient``, ``primal``, ``adjoint`` (one entry per optimisation step).
The weights change between steps (a fixed pseudo-gradient step) so warm starts are exercised.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from solver.config import NetworkConfig  # noqa: E402
from solver.mgrit import MGRITPropagation, ParallelConfig, reference_mgrit  # noqa: E402
from solver.parallel import abort_on_error  # noqa: E402
from solver.params import Params  # noqa: E402

CONFIG = NetworkConfig(
    n_features=2, n_classes=3, width=4, n_layers=32, t_final=3.0, gamma_tik=1e-4, gamma_ddt=1e-3
)
CASES = {
    "one_shot": ParallelConfig(
        mgrit=reference_mgrit(min_coarse_size=2), one_shot=True, warmup_steps=1
    ),
    "converged": ParallelConfig(
        mgrit=reference_mgrit(abs_tol=1e-11, min_coarse_size=4, nrelax_fine=1, cycle="F")
    ),
    "serial": ParallelConfig(mgrit=reference_mgrit(max_levels=1)),
}


def inputs() -> tuple[Params, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2024)
    params = Params.from_flat(CONFIG, 0.5 * rng.standard_normal(CONFIG.n_params))
    return params, rng.standard_normal((12, 2)), rng.integers(0, 3, 12)


def main(outdir: Path) -> None:
    from solver.parallel.mpi import world  # mpi4py only in the MPI process

    comm = world()
    with abort_on_error(comm):
        for name, parallel in CASES.items():
            params, X, y = inputs()
            prop = MGRITPropagation(CONFIG, parallel, comm)
            rows = {"objective": [], "gradient": [], "primal": [], "adjoint": []}
            for _ in range(4):
                prop.begin_step()
                ev = prop.evaluate(CONFIG, params, X, y, gradient=True)
                g = ev.gradient.to_flat()
                rows["objective"].append(ev.objective)
                rows["gradient"].append(g)
                rows["primal"].append(ev.info["primal_residual"])
                rows["adjoint"].append(ev.info["adjoint_residual"])
                params = Params.from_flat(CONFIG, params.to_flat() - 0.1 * g)
            np.savez(
                outdir / f"{name}_rank{comm.rank}.npz", **{k: np.array(v) for k, v in rows.items()}
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
