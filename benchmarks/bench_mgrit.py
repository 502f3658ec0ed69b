"""Benchmarks of the layer-parallel MGRIT propagation (prints tables; a few minutes by default).

Sections (``--section``, default all):

* ``convergence`` -- forward and adjoint MGRIT on the ResNet (peaks data, width 8, T = 5, tanh):
  iterations to a residual of 1e-10 and average convergence factor vs depth N, at initial and at
  trained-like weights (a 32-layer network trained with L-BFGS, resampled piecewise constant
  in t), F- and FCF-relaxation on the finest level (FCF on coarse levels, cf 2, V-cycles).
* ``oneshot`` -- wall time of one gradient evaluation: one-shot MGRIT (2 + 2 cycles) and
  converged MGRIT (1e-10, warm) on one rank vs exact serial propagation.
* ``ranks`` -- measured wall time of a gradient evaluation on 1 vs 2 MPI ranks (mpiexec).
* ``speedup`` -- modelled speed-up (virtual clocks, unit cost per layer step, P thread ranks)
  of one one-shot gradient evaluation over exact serial propagation (2N steps).
* ``memory`` -- peak traced memory per rank (mpiexec, tracemalloc) vs N/P * batch * width.

``--quick`` shrinks every grid (for a smoke test).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 2 shared cores: no BLAS threads

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from solver.config import NetworkConfig  # noqa: E402
from solver.data import load_dataset  # noqa: E402
from solver.init import InitConfig, initialize  # noqa: E402
from solver.mgrit import MGRITPropagation, ParallelConfig  # noqa: E402
from solver.mgrit.model import modelled_evaluation  # noqa: E402
from solver.network import evaluate  # noqa: E402
from solver.params import Params  # noqa: E402

WIDTH, T_FINAL = 8, 5.0
INIT = InitConfig(distribution="normal", scale_open=1.0, scale_hidden=0.1, scale_class=0.1, seed=1)


def network(n_layers: int) -> NetworkConfig:
    return NetworkConfig(n_features=2, n_classes=5, width=WIDTH, n_layers=n_layers, t_final=T_FINAL)


def peaks(n_per_class: int):
    return load_dataset("peaks", n_train_per_class=n_per_class)


def resample(params: Params, n_layers: int) -> Params:
    """Weights at depth ``n_layers``: layer n takes the weights of the layer covering t_n."""
    src = params.n_layers
    idx = (np.arange(n_layers) * src) // n_layers
    return Params(params.open_K, params.open_b, params.K[idx].copy(), params.b[idx].copy(),
                  params.W, params.mu)  # fmt: skip


def trained_weights() -> Params:
    from solver.optim import OptimizerConfig
    from solver.train import StopConfig, train

    data = peaks(100)
    result = train(network(32), data, optimizer=OptimizerConfig(name="lbfgs"),
                   stop=StopConfig(max_iterations=150), init=INIT)  # fmt: skip
    acc, kmax = result.final["train_acc"], np.abs(result.params.K).max()
    print(f"  trained-like weights: 32 layers, 150 L-BFGS steps, train acc {acc:.3f}, "
          f"max |K| {kmax:.2f}")  # fmt: skip
    return result.params


def drift(params: Params, k: int, size: float = 1e-3) -> Params:
    """Weights after ``k`` small optimisation-like steps (a fixed random direction), so that
    warm starts see changing weights as in training."""
    direction = np.random.default_rng(99).standard_normal(params.K.shape)
    out = params.copy()
    out.K += size * k * direction
    return out


# ---------------------------------------------------------------------------- convergence
def _factor(history: np.ndarray) -> float:
    """Average convergence factor ``(r_last / r_0)^(1/(len-1))``."""
    if len(history) < 2 or not history[0] > 0:
        return float("nan")
    return float((history[-1] / history[0]) ** (1.0 / (len(history) - 1)))


def _levels(n_layers: int, par: ParallelConfig) -> int:
    from solver.mgrit import LevelGrid

    return LevelGrid.build(n_layers, par.mgrit()).n_levels


def convergence(depths: list[int], batch: int) -> dict:
    print("\n== MGRIT convergence on the ResNet, cold start, tol 1e-10 (cf 2, V-cycles, FCF "
          "on coarse levels): iterations / average factor, forward and adjoint ==")  # fmt: skip
    data = peaks(batch // 5 + 1)
    X, y = data.X_train[:batch], data.y_train[:batch]
    weights = {"initial": initialize(network(32), INIT), "trained": trained_weights()}
    out = {}
    print(f"{'weights':>8} {'N':>5} {'lvls':>4} | {'F fwd':>11} {'F adj':>11} | "
          f"{'FCF fwd':>11} {'FCF adj':>11}")  # fmt: skip
    for name, base in weights.items():
        for n in depths:
            config, params = network(n), resample(base, n)
            cells = []
            for nrelax_fine in (0, 1):
                par = ParallelConfig(nrelax_fine=nrelax_fine, max_iterations=60, tolerance=1e-10,
                                     min_coarse_size=2, cost="unit")  # fmt: skip
                info = (
                    MGRITPropagation(config, par).evaluate(config, params, X, y, gradient=True).info
                )
                for key in ("primal", "adjoint"):
                    its, rho = info[f"{key}_iterations"], _factor(info[f"{key}_history"])
                    cells.append(f"{its:>3} / {rho:.3f}")
                    out[f"{name}/{n}/nrelax{nrelax_fine}/{key}"] = [its, rho]
            print(f"{name:>8} {n:>5} {_levels(n, par):>4} | {cells[0]:>11} {cells[1]:>11} | "
                  f"{cells[2]:>11} {cells[3]:>11}")  # fmt: skip
    return out


# ---------------------------------------------------------------------------- one-shot time
def _time(fn, repeat: int) -> float:
    """Mean wall time of ``fn(k)``, k = 1..repeat, after one warm-up call ``fn(0)``."""
    fn(0)
    start = time.perf_counter()
    for k in range(1, repeat + 1):
        fn(k)
    return (time.perf_counter() - start) / repeat


def oneshot(depths: list[int], n_per_class: int, repeat: int) -> dict:
    print(f"\n== gradient evaluation time, one rank, peaks {5 * n_per_class} samples, width 8 ==")
    data = peaks(n_per_class)
    X, y = data.X_train, data.y_train
    print(f"{'N':>5} {'serial s':>9} {'one-shot s':>10} {'ratio':>6} {'converged s':>11} "
          f"{'ratio':>6}")  # fmt: skip
    out = {}
    for n in depths:
        config = network(n)
        params = initialize(config, INIT)

        def serial(k, config=config, params=params):
            evaluate(config, drift(params, k), X, y, gradient=True)

        t_serial = _time(serial, repeat)
        times = []
        for par in (ParallelConfig(one_shot=True, warmup_steps=0, min_coarse_size=2),
                    ParallelConfig(min_coarse_size=2)):  # fmt: skip
            prop = MGRITPropagation(config, par)

            def step(k, prop=prop, config=config, params=params):
                prop.begin_step()
                prop.evaluate(config, drift(params, k), X, y, gradient=True)

            times.append(_time(step, repeat))
        out[n] = [t_serial, *times]
        print(f"{n:>5} {t_serial:>9.4f} {times[0]:>10.4f} {times[0] / t_serial:>6.1f} "
              f"{times[1]:>11.4f} {times[1] / t_serial:>6.1f}")  # fmt: skip
    return out


# ---------------------------------------------------------------------------- modelled speed-up
def speedup(depths: list[int], ranks: list[int], latency: float) -> dict:
    print(f"\n== modelled speed-up of a one-shot gradient evaluation (2+2 cycles, F fine / FCF "
          f"coarse, cf 2), unit cost per layer step, latency {latency} step ==")  # fmt: skip
    print("   serial reference: 2N steps (forward + reverse sweep)")
    out = {}
    X = peaks(1).X_train[:2]
    y = np.zeros(2, dtype=np.int64)
    print(f"{'N':>5} " + " ".join(f"{f'P={p}':>7}" for p in ranks))
    for n in depths:
        config = network(n)
        params = initialize(config, INIT)
        par = ParallelConfig(one_shot=True, warmup_steps=0, min_coarse_size=2, cost="unit",
                             latency=latency)  # fmt: skip
        cells = []
        for p in ranks:
            if p > n // par.fine_factor:
                cells.append("-")
                continue

            model = modelled_evaluation(config, params, X, y, par, p)
            t = model["modelled_time"]
            out[f"{n}/{p}"] = 2 * n / t
            cells.append(f"{2 * n / t:.2f}")
        print(f"{n:>5} " + " ".join(f"{c:>7}" for c in cells))
    return out


# ---------------------------------------------------------------------------- MPI workers
def worker(task: str, n: int, batch: int) -> None:
    """Run under mpiexec: ``ranks`` (wall time per evaluation) or ``memory`` (tracemalloc)."""
    from solver.parallel.mpi import world

    comm = world()
    data = peaks(batch // 5)
    X, y = data.X_train, data.y_train
    config = network(n)
    params = initialize(config, INIT)
    result = {}
    for label, par in (("one-shot", ParallelConfig(one_shot=True, warmup_steps=0,
                                                   min_coarse_size=2, cost="unit")),
                       ("converged", ParallelConfig(min_coarse_size=2, cost="unit"))):  # fmt: skip
        prop = MGRITPropagation(config, par, comm)
        prop.begin_step()
        prop.evaluate(config, params, X, y, gradient=True)  # warm-up (and warm states)
        if task == "memory":
            tracemalloc.start()
        comm.barrier()
        start = time.perf_counter()
        repeat = 3 if task == "ranks" else 1
        for k in range(1, repeat + 1):
            prop.begin_step()
            ev = prop.evaluate(config, drift(params, k), X, y, gradient=True)
        comm.barrier()
        wall = (time.perf_counter() - start) / repeat
        peak = 0.0
        if task == "memory":
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        peaks_all = comm.allreduce(np.array([peak]), "max")[0]
        result[label] = {"wall": wall, "modelled": ev.info["modelled_time"], "peak": peaks_all}
    if comm.rank == 0:
        print(json.dumps(result))


def _mpi(task: str, p: int, n: int, batch: int) -> dict | None:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    cmd = [str(mpiexec), "-n", str(p), sys.executable, __file__, "--worker", task,
           "--n", str(n), "--batch", str(batch)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        print(f"  mpiexec -n {p} failed: {proc.stderr.strip()[-400:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ranks_wall(n: int, batch: int) -> dict:
    print(f"\n== measured wall time per gradient evaluation, N={n}, batch {batch}, mpiexec ==")
    print("   (drifting weights, warm starts; modelled = unit-cost virtual clocks)")
    print(f"{'mode':>10} {'1 rank s':>9} {'2 ranks s':>9} {'measured':>9} {'modelled':>9}")
    one, two = _mpi("ranks", 1, n, batch), _mpi("ranks", 2, n, batch)
    if one is None or two is None:
        return {}
    for mode in ("one-shot", "converged"):
        w1, w2 = one[mode]["wall"], two[mode]["wall"]
        m1, m2 = one[mode]["modelled"], two[mode]["modelled"]
        print(f"{mode:>10} {w1:>9.4f} {w2:>9.4f} {w1 / w2:>8.2f}x {m1 / m2:>8.2f}x")
    return {"1": one, "2": two}


def memory(depths: list[int], ranks: list[int], batch: int) -> dict:
    print(f"\n== peak traced memory per rank (one-shot and converged evaluation), batch {batch} ==")
    print(f"{'N':>5} {'P':>3} {'N/P*B*w floats MB':>18} {'one-shot MB':>11} {'ratio':>6} "
          f"{'converged MB':>12} {'ratio':>6}")  # fmt: skip
    out = {}
    for n in depths:
        for p in ranks:
            res = _mpi("memory", p, n, batch)
            if res is None:
                continue
            base = n / p * batch * WIDTH * 8 / 1e6
            a, b = res["one-shot"]["peak"] / 1e6, res["converged"]["peak"] / 1e6
            out[f"{n}/{p}"] = [base, a, b]
            print(f"{n:>5} {p:>3} {base:>18.2f} {a:>11.2f} {a / base:>6.2f} {b:>12.2f} "
                  f"{b / base:>6.2f}")  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--section",
        default="all",
        choices=["all", "convergence", "oneshot", "ranks", "speedup", "memory"],
    )
    ap.add_argument("--quick", action="store_true", help="small grids (smoke test)")
    ap.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=256, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1000, help=argparse.SUPPRESS)
    args = ap.parse_args()  # fmt: skip
    if args.worker:
        worker(args.worker, args.n, args.batch)
        return
    q = args.quick
    want = lambda s: args.section in ("all", s)  # noqa: E731
    results: dict = {}
    start = time.perf_counter()
    if want("convergence"):
        depths = [32, 64, 128] if q else [32, 64, 128, 256, 512, 1024, 2048, 4096]
        results["convergence"] = convergence(depths, batch=20 if q else 50)
    if want("oneshot"):
        results["oneshot"] = oneshot([32] if q else [32, 128], 100 if q else 1000, 1 if q else 3)
    if want("ranks"):
        results["ranks"] = ranks_wall(64 if q else 256, 200 if q else 2000)
    if want("speedup"):
        depths = [256] if q else [256, 1024, 4096]
        ranks = [1, 2, 4, 8] if q else [1, 2, 4, 8, 16, 32, 64, 128, 256]
        results["speedup"] = speedup(depths, ranks, latency=0.1)
    if want("memory"):
        results["memory"] = memory([64] if q else [256, 1024], [1, 2] if q else [1, 2, 4],
                                   100 if q else 500)  # fmt: skip
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
