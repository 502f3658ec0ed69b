"""Benchmarks of the layer-parallel MGRIT propagation (prints tables; a few minutes by default).

Sections (``--section``, default all):

* ``convergence`` -- forward and adjoint MGRIT on the ResNet (peaks data, width 8, T = 5, tanh):
  iterations to a residual of 1e-10 and average convergence factor vs depth N, at initial and at
  trained-like weights (a 32-layer network trained with L-BFGS, resampled piecewise constant
  in t), F- and FCF-relaxation on the finest level (FCF on coarse levels, cf 2, V-cycles).
* ``oneshot`` -- one rank: layer steps and wall time of one gradient evaluation (one-shot
  2+2 and 1+1 cycles in several configurations, converged MGRIT) relative to exact serial
  propagation (medians of interleaved runs), and where the steps go (level x phase).
* ``ranks`` -- model vs measurement: wall time of a gradient evaluation on 1 and 2 MPI ranks
  (mpiexec runs alternated), the measured-cost virtual clock, and the unit-cost speed-up model.
* ``speedup`` -- modelled speed-up (virtual clocks, unit cost per layer step, P thread ranks)
  of one one-shot gradient evaluation over exact serial propagation (2N steps) for several
  configurations (fine coarsening factor N/P: one coarse interval per rank), the best per
  (N, P), the sensitivity to the modelled latency, and the converged (tolerance) case.
* ``memory`` -- peak traced memory per rank (mpiexec, tracemalloc) vs N/P * batch * width,
  with and without the stored activations.

``--quick`` shrinks every grid (for a smoke test).  The ``oneshot`` section also writes
``results/summaries/bench/mgrit_oneshot.csv`` (CPU-time ratios, paired per repetition).
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
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _store import context, limit_threads, ratio_summary, write_rows  # noqa: E402

from solver.config import NetworkConfig  # noqa: E402
from solver.data import load_dataset  # noqa: E402
from solver.init import InitConfig, initialize  # noqa: E402
from solver.mgrit import MGRITPropagation, ParallelConfig, reference_mgrit  # noqa: E402
from solver.mgrit.model import modelled_evaluation  # noqa: E402
from solver.network import SerialPropagation  # noqa: E402
from solver.params import Params  # noqa: E402

WIDTH, T_FINAL = 8, 5.0
CSV_ROWS: list[dict] = []  # one-rank one-shot figures -> results/summaries/bench/mgrit_oneshot.csv
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

    return LevelGrid.build(n_layers, par.mgrit).n_levels


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
                mgrit = reference_mgrit(nrelax_fine=nrelax_fine, max_iterations=60,
                                        abs_tol=1e-10, min_coarse_size=2)  # fmt: skip
                par = ParallelConfig(mgrit=mgrit, cost="unit")
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


# ---------------------------------------------------------------------------- configurations
def one_shot(iterations: int = 2, **kw) -> ParallelConfig:
    """One-shot settings (no warm-up: the steady state of training), ``iterations`` forward and
    adjoint cycles, coarse grids down to 2 intervals."""
    kw = {"min_coarse_size": 2, **kw}
    return ParallelConfig.from_options(
        kw, one_shot=True, warmup_steps=0, fwd_iterations=iterations, bwd_iterations=iterations
    )


#: one-rank configurations: label -> settings (cf 2 / F fine / FCF coarse is the reference)
ONE_RANK = {
    "2+2 cf2 F/FCF (reference)": one_shot(2),
    "2+2 cf2 F/FCF, S not kept": one_shot(2, store_activations=False),
    "1+1 cf2 F/FCF": one_shot(1),
    "2+2 cf2 F/F": one_shot(2, nrelax=0),
    "2+2 cf8 2 levels": one_shot(2, coarsening_factor=8, max_levels=2),
    "1+1 cf8 2 levels": one_shot(1, coarsening_factor=8, max_levels=2),
    "converged 1e-10": ParallelConfig(mgrit=reference_mgrit(min_coarse_size=2)),
}

#: P-rank candidates of the speed-up model (all with 2+2 cycles unless the label says 1+1)
CANDIDATES = {
    "cf2 F/FCF": one_shot(2),
    "cf0=N/P cf2 F/FCF": one_shot(2, coarsening_factor_fine="ranks"),
    "cf0=N/P cf2 F/F": one_shot(2, coarsening_factor_fine="ranks", nrelax=0),
    "cf0=N/P cf4 F/FCF": one_shot(2, coarsening_factor_fine="ranks", coarsening_factor=4),
    "cf0=N/P 2 levels": one_shot(
        2, coarsening_factor_fine="ranks", max_levels=2, min_coarse_size=1
    ),  # fmt: skip
}


# ---------------------------------------------------------------------------- one-shot time
def _median_ratio(fns: dict, repeat: int, cpu: dict | None = None) -> dict:
    """Median wall time of every ``fn(k)``, k = 1..repeat, calls interleaved (one warm-up);
    ``cpu`` (if given) receives the per-call CPU times (``time.process_time``) by name."""
    for fn in fns.values():
        fn(0)
    times = {name: [] for name in fns}
    for k in range(1, repeat + 1):
        for name, fn in fns.items():
            start, c0 = time.perf_counter(), time.process_time()
            fn(k)
            times[name].append(time.perf_counter() - start)
            if cpu is not None:
                cpu.setdefault(name, []).append(time.process_time() - c0)
    return {name: float(np.median(t)) for name, t in times.items()}


def phases(n: int, par: ParallelConfig) -> dict:
    """Layer steps of one steady-state gradient evaluation, by level and phase (fwd + adj)."""
    config = network(n)
    params = initialize(config, INIT)
    data = peaks(4)
    prop = MGRITPropagation(config, replace(par, cost="unit"))
    for k in range(2):
        prop.begin_step()
        ev = prop.evaluate(config, drift(params, k), data.X_train, data.y_train, gradient=True)
    out: dict[str, int] = {}
    for key in ("forward_phases", "adjoint_phases"):
        for name, count in ev.info[key].items():
            out[name] = out.get(name, 0) + count
    return out


def oneshot(depths: list[int], n_per_class: int, repeat: int) -> dict:
    print(
        f"\n== gradient evaluation on one rank, peaks {5 * n_per_class} samples, width 8: "
        "layer steps / 2N and wall time / serial wall (each configuration interleaved with "
        "the serial evaluation, medians; one propagation alive at a time) =="
    )
    data = peaks(n_per_class)
    X, y = data.X_train, data.y_train
    out = {}
    for n in depths:
        config = network(n)
        params = initialize(config, INIT)
        serial_prop = SerialPropagation()  # as in training: its workspace is reused
        print(f"N = {n}")
        print(f"{'configuration':>30} {'steps/2N':>9} {'wall/serial':>11} {'ms':>8} "
              f"{'serial ms':>9}")  # fmt: skip
        for label, par in ONE_RANK.items():
            prop = MGRITPropagation(config, par)
            steps = {}

            def step(k, prop=prop, config=config, params=params, steps=steps):
                prop.begin_step()
                ev = prop.evaluate(config, drift(params, k), X, y, gradient=True)
                steps["n"] = ev.info["layer_steps"]

            def serial(k, config=config, params=params, prop=serial_prop):
                prop.evaluate(config, drift(params, k), X, y, gradient=True)

            cpu: dict = {}
            wall = _median_ratio({"serial": serial, label: step}, repeat, cpu)
            del prop, step
            ratio = wall[label] / wall["serial"]
            out[f"{n}/{label}"] = {"steps_ratio": steps["n"] / (2 * n), "wall_ratio": ratio,
                                   "wall": wall[label], "serial": wall["serial"]}  # fmt: skip
            CSV_ROWS.append({"figure": "one-shot gradient / serial gradient, 1 rank",
                             "n_layers": n, "n_samples": len(y), "configuration": label,
                             "steps_ratio": steps["n"] / (2 * n),
                             "num_cpu_ms": 1e3 * float(np.median(cpu[label])),
                             "den_cpu_ms": 1e3 * float(np.median(cpu["serial"])),
                             "wall_ratio": ratio, **ratio_summary(cpu[label], cpu["serial"]),
                             "reps": repeat})  # fmt: skip
            print(f"{label:>30} {steps['n'] / (2 * n):>9.2f} {ratio:>11.2f} "
                  f"{wall[label] * 1e3:>8.1f} {wall['serial'] * 1e3:>9.1f}")  # fmt: skip
    n = depths[-1]
    table = phases(n, ONE_RANK["2+2 cf2 F/FCF (reference)"])
    print(f"\n   where the steps go (2+2 cf2 F/FCF, N = {n}, forward + adjoint, units of N):")
    names = sorted({k.split(" ", 1)[1] for k in table})
    levels = sorted({int(k.split(" ")[0][1:]) for k in table})
    print(f"{'level':>6} " + " ".join(f"{p:>12}" for p in names) + f" {'sum':>6}")
    for lv in levels:
        row = [table.get(f"L{lv} {p}", 0) / n for p in names]
        print(f"{lv:>6} " + " ".join(f"{v:>12.3f}" for v in row) + f" {sum(row):>6.3f}")
    total = sum(table.values()) / n
    print(f"{'total':>6} {total:.3f} N (serial gradient: 2 N)")
    out["phases"] = {"n": n, "steps": table}
    return out


# ---------------------------------------------------------------------------- modelled speed-up
def _model(n: int, p: int, par: ParallelConfig, latency: float, steps: int = 2) -> float | None:
    """Modelled speed-up of the ``steps``-th evaluation (``steps=2``: one-shot warm-started
    from the first, the steady state; ``steps=1``: a cold start)."""
    config = network(n)
    par = replace(par, latency=latency, cost="unit").for_ranks(n, p)
    if p > -(-n // par.fine_factor):
        return None
    X = peaks(1).X_train[:2]
    y = np.zeros(2, dtype=np.int64)
    return modelled_evaluation(config, initialize(config, INIT), X, y, par, p, steps=steps)[
        "speedup"
    ]


def speedup(depths: list[int], ranks: list[int], latency: float, latencies: list[float]) -> dict:
    print(f"\n== modelled speed-up of a one-shot gradient evaluation over the exact serial "
          f"one (2N steps); unit cost per layer step, latency {latency} step per message hop "
          f"(log2 P hops per allreduce) ==")  # fmt: skip
    out: dict = {}
    for n in depths:
        print(f"\nN = {n}")
        print(f"{'configuration':>22} " + " ".join(f"{f'P={p}':>7}" for p in ranks))
        best: dict[int, tuple[float, str]] = {}
        for label, par in {**CANDIDATES,
                           "1+1 cf0=N/P cf2 F/FCF": one_shot(1, coarsening_factor_fine="ranks")
                           }.items():  # fmt: skip
            cells = []
            for p in ranks:
                s = _model(n, p, par, latency)
                out[f"{n}/{p}/{label}"] = s
                cells.append("-" if s is None else f"{s:.2f}")
                if s is not None and not label.startswith("1+1") and s > best.get(p, (0, ""))[0]:
                    best[p] = (s, label)
            print(f"{label:>22} " + " ".join(f"{c:>7}" for c in cells))
        print(f"{'best 2+2':>22} " + " ".join(f"{best[p][0]:>7.2f}" if p in best else
                                              f"{'-':>7}" for p in ranks))  # fmt: skip
        for p in ranks:
            if p in best:
                out[f"{n}/{p}/best"] = best[p]
        print("   best 2+2 configuration per P: "
              + ", ".join(f"P={p}: {best[p][1]}" for p in ranks if p in best))  # fmt: skip
    n = 1024 if 1024 in depths else depths[-1]
    label = "cf0=N/P cf2 F/FCF"
    print(f"\n   latency sensitivity, N = {n}, {label}, 2+2 (latency in layer steps):")
    print(f"{'latency':>8} " + " ".join(f"{f'P={p}':>7}" for p in ranks))
    for lat in latencies:
        cells = [_model(n, p, CANDIDATES[label], lat) for p in ranks]
        for p, c in zip(ranks, cells, strict=True):
            out[f"latency/{lat}/{n}/{p}"] = c
        print(f"{lat:>8} " + " ".join(f"{'-' if c is None else f'{c:.2f}':>7}" for c in cells))
    print(f"\n   converged (tolerance 1e-10, cold start, one evaluation), N = {n}:")
    print(f"{'configuration':>22} " + " ".join(f"{f'P={p}':>7}" for p in ranks))
    converged = {
        "cf2 F/FCF": ParallelConfig(mgrit=reference_mgrit(min_coarse_size=2)),
        "cf0=N/P cf2 F/FCF": ParallelConfig(
            mgrit=reference_mgrit(min_coarse_size=2, coarsening_factor_fine="ranks")
        ),
    }
    for label, par in converged.items():
        cells = [_model(n, p, par, latency, steps=1) for p in ranks]
        for p, c in zip(ranks, cells, strict=True):
            out[f"converged/{n}/{p}/{label}"] = c
        print(f"{label:>22} " + " ".join(f"{'-' if c is None else f'{c:.2f}':>7}" for c in cells))
    return out


# ---------------------------------------------------------------------------- MPI workers
#: configurations run under mpiexec (the same settings on 1 and 2 ranks)
MPI_CONFIGS = {
    "one-shot cf2": lambda n: one_shot(2),
    "one-shot cf0=N/2": lambda n: one_shot(2, coarsening_factor_fine=n // 2, min_coarse_size=1),
    "converged cf2": lambda n: ParallelConfig(mgrit=reference_mgrit(min_coarse_size=2)),
}


def worker(task: str, n: int, batch: int, label: str, store: bool) -> None:
    """Run under mpiexec: ``ranks`` (wall time per evaluation) or ``memory`` (tracemalloc)."""
    from solver.parallel.mpi import world

    comm = world()
    data = peaks(batch // 5)
    X, y = data.X_train, data.y_train
    config = network(n)
    params = initialize(config, INIT)
    par = replace(MPI_CONFIGS[label](n), cost="measured", store_activations=store)
    prop = MGRITPropagation(config, par, comm)
    prop.begin_step()
    prop.evaluate(config, params, X, y, gradient=True)  # warm-up (and warm states)
    if task == "memory":
        tracemalloc.start()
    walls, modelled = [], []
    for k in range(1, (5 if task == "ranks" else 1) + 1):
        comm.barrier()
        start = time.perf_counter()
        prop.begin_step()
        ev = prop.evaluate(config, drift(params, k), X, y, gradient=True)
        comm.barrier()
        walls.append(time.perf_counter() - start)
        modelled.append(ev.info["modelled_time"])
    result = {"wall": float(np.median(walls)), "modelled": float(np.median(modelled))}
    if task == "memory":
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        kept = sum(a.nbytes for a in prop._forward.values())
        warm = sum(a.nbytes for a in prop._adjoint.values())
        cells = comm.allreduce(np.array([peak, kept, warm]), "max")
        result.update(peak=cells[0], forward=cells[1], adjoint_warm=cells[2])
    if comm.rank == 0:
        print(json.dumps(result))


def _mpi(task: str, p: int, n: int, batch: int, label: str, store: bool = True) -> dict | None:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    cmd = [str(mpiexec), "-n", str(p), sys.executable, __file__, "--worker", task,
           "--n", str(n), "--batch", str(batch), "--label", label,
           "--store", str(int(store))]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        print(f"  mpiexec -n {p} failed: {proc.stderr.strip()[-400:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ranks_wall(n: int, batch: int, rounds: int) -> dict:
    print(f"\n== model vs measurement, N={n}, batch {batch}, mpiexec -n 1 and -n 2 alternated "
          f"{rounds} times (medians; each run: median of 5 evaluations) ==")  # fmt: skip
    print("   modelled s: virtual clocks with the measured cost of every step, zero latency;")
    print("   unit model: speed-up from unit-cost clocks (thread ranks)")
    print(f"{'configuration':>18} {'P':>2} {'wall s':>8} {'modelled s':>10} {'mod/meas':>8} | "
          f"{'speed-up meas':>13} {'unit model':>10} {'model/meas':>10}")  # fmt: skip
    out = {}
    for label, make in MPI_CONFIGS.items():
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(rounds):
            for p in (1, 2):
                r = _mpi("ranks", p, n, batch, label)
                if r is not None:
                    runs[p].append(r)
        if not runs[1] or not runs[2]:
            continue
        med = {p: {k: float(np.median([r[k] for r in runs[p]])) for k in ("wall", "modelled")}
               for p in (1, 2)}  # fmt: skip
        config = network(n)
        X = peaks(1).X_train[:2]
        y = np.zeros(2, dtype=np.int64)
        unit = [modelled_evaluation(config, initialize(config, INIT), X, y, make(n), p,
                                    steps=2)["modelled_time"] for p in (1, 2)]  # fmt: skip
        meas = med[1]["wall"] / med[2]["wall"]
        model = unit[0] / unit[1]
        for p in (1, 2):
            w, m = med[p]["wall"], med[p]["modelled"]
            tail = (f" | {meas:>13.2f} {model:>10.2f} {model / meas:>10.2f}" if p == 2 else
                    f" | {'':>13} {'':>10} {'':>10}")  # fmt: skip
            print(f"{label:>18} {p:>2} {w:>8.4f} {m:>10.4f} {m / w:>8.2f}{tail}")
        out[label] = {"median": med, "unit_speedup": model, "measured_speedup": meas}
    return out


def memory(depths: list[int], ranks: list[int], batch: int) -> dict:
    print(
        f"\n== peak traced memory per rank of a one-shot evaluation (2+2), batch {batch}; "
        "base = N/P x batch x width floats (the forward states the adjoint needs) =="
    )
    print(f"{'N':>5} {'P':>2} {'configuration':>18} {'S kept':>6} {'base MB':>8} {'peak MB':>8} "
          f"{'peak/base':>9} {'adj warm/base':>13}")  # fmt: skip
    out = {}
    for n in depths:
        for p in ranks:
            for label in ("one-shot cf2", "one-shot cf0=N/2"):
                for store in (True, False):
                    res = _mpi("memory", p, n, batch, label, store)
                    if res is None:
                        continue
                    base = n / p * batch * WIDTH * 8
                    ratio = res["peak"] / base
                    out[f"{n}/{p}/{label}/{store}"] = {**res, "base": base}
                    print(f"{n:>5} {p:>2} {label:>18} {'yes' if store else 'no':>6} "
                          f"{base / 1e6:>8.2f} {res['peak'] / 1e6:>8.2f} {ratio:>9.2f} "
                          f"{res['adjoint_warm'] / base:>13.2f}")  # fmt: skip
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
    ap.add_argument("--label", default="one-shot cf2", help=argparse.SUPPRESS)
    ap.add_argument("--store", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()  # fmt: skip
    if args.worker:
        worker(args.worker, args.n, args.batch, args.label, bool(args.store))
        return
    q = args.quick
    threads = limit_threads(1)  # numpy BLAS, inside this process (threadpoolctl)
    want = lambda s: args.section in ("all", s)  # noqa: E731
    results: dict = {}
    start = time.perf_counter()
    if want("convergence"):
        depths = [32, 64, 128] if q else [32, 64, 128, 256, 512, 1024, 2048, 4096]
        results["convergence"] = convergence(depths, batch=20 if q else 50)
    if want("oneshot"):
        results["oneshot"] = oneshot([32] if q else [64, 256], 100 if q else 1000, 1 if q else 9)
    if want("ranks"):
        results["ranks"] = ranks_wall(64 if q else 256, 200 if q else 2000, 1 if q else 3)
    if want("speedup"):
        depths = [256] if q else [256, 1024, 4096]
        ranks = [1, 2, 4, 8] if q else [1, 2, 4, 8, 16, 32, 64, 128, 256]
        results["speedup"] = speedup(depths, ranks, latency=0.1, latencies=[0.0, 0.1, 1.0, 10.0])
    if want("memory"):
        results["memory"] = memory([64] if q else [256, 1024], [1, 2] if q else [1, 2],
                                   100 if q else 500)  # fmt: skip
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
    if CSV_ROWS and not q:
        ctx = context("none", threads)
        write_rows("mgrit_oneshot", [{**r, **ctx} for r in CSV_ROWS])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
