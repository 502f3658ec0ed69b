"""Time one training iteration (objective + gradient) against PyTorch CPU autograd.

Cases (full batch, tanh, vector bias, dense opening, all gammas 1e-7):

* ``peaks``: width 8, N = 30, 5000 samples, 2 features, 5 classes;
* ``wide``:  width 220, N = 27, 4000 samples, 220 features, 16 classes (Indian Pines shape),
  float64 and float32;
* ``deep``:  width 8, N = 1024, 5000 samples (peaks shape).

"ours" is ``SerialPropagation().evaluate(..., gradient=True)`` (the training loop's call: one
propagation object, its workspace reused); "torch" is the same network written with ``torch``
tensors (one leaf tensor per layer, as an ``nn.ModuleList`` would hold them) and
``loss.backward()``; "gemm" (wide float64) runs only the GEMMs of one gradient evaluation
(3 per hidden layer + 2 opening, shapes ``(B, w) x (w, w)``) with numpy in the same process, so
``gemm / ours`` is our share of the GEMM limit. Every repetition runs each variant once in
rotated order (interleaved); ratios are per repetition (paired) on process CPU time, median and
bootstrap 95 % interval. Threads: ``--threads`` (default 1) for numpy's BLAS (threadpoolctl,
inside this process) and torch (``set_num_threads``, ``set_num_interop_threads``). Torch is
optional (``pip install -e '.[bench]'``); without it only our timings are stored.

Writes ``results/summaries/bench/iteration.csv`` (one row per case x dtype x comparison).

Usage::

    python benchmarks/bench_iteration.py [--reps 9] [--threads 1] [--cases peaks wide deep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _store import context, limit_threads, paired_times, ratio_summary, write_rows  # noqa: E402

from solver.config import NetworkConfig  # noqa: E402
from solver.init import InitConfig, initialize  # noqa: E402
from solver.network import SerialPropagation  # noqa: E402
from solver.params import Params  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    width: int
    n_layers: int
    n_samples: int
    n_features: int
    n_classes: int

    def config(self) -> NetworkConfig:
        return NetworkConfig(
            n_features=self.n_features,
            n_classes=self.n_classes,
            width=self.width,
            n_layers=self.n_layers,
            t_final=5.0,
            activation="tanh",
            gamma_tik=1e-7,
            gamma_ddt=1e-7,
            gamma_class=1e-7,
        )


CASES = {
    "peaks": Case("peaks", width=8, n_layers=30, n_samples=5000, n_features=2, n_classes=5),
    "wide": Case("wide", width=220, n_layers=27, n_samples=4000, n_features=220, n_classes=16),
    "deep": Case("deep", width=8, n_layers=1024, n_samples=5000, n_features=2, n_classes=5),
}
#: precisions timed per case
DTYPES = {"peaks": ("float64",), "wide": ("float64", "float32"), "deep": ("float64",)}


def problem(case: Case, seed: int = 0) -> tuple[NetworkConfig, Params, np.ndarray, np.ndarray]:
    """Network, parameters (normal, scale 0.1) and random data for ``case``."""
    config = case.config()
    scale = 0.1
    params = initialize(
        config, InitConfig("normal", scale_open=scale, scale_hidden=scale, scale_class=scale)
    )
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((case.n_samples, case.n_features))
    y = rng.integers(0, case.n_classes, case.n_samples)
    return config, params, X, y


# ---- torch version of the same objective ------------------------------------------------------


class TorchNetwork:
    """The ODE-ResNet objective in torch autograd, parameters as per-layer leaf tensors."""

    def __init__(self, torch, config: NetworkConfig, params: Params, X, y) -> None:
        self.torch = torch
        self.config = config
        dtype = getattr(torch, config.dtype)

        def leaf(a: np.ndarray):
            return torch.tensor(a, dtype=dtype, requires_grad=True)

        self.open_K, self.open_b = leaf(params.open_K), leaf(params.open_b)
        self.K = [leaf(k) for k in params.K]
        self.b = [leaf(b) for b in params.b]
        self.W, self.mu = leaf(params.W), leaf(params.mu)
        self.leaves = [self.open_K, self.open_b, *self.K, *self.b, self.W, self.mu]
        self.X = torch.tensor(X, dtype=dtype)
        self.y = torch.tensor(y, dtype=torch.int64)

    def objective(self):
        torch, c = self.torch, self.config
        h = c.h
        Y = torch.tanh(self.X @ self.open_K.T + self.open_b)
        for K, b in zip(self.K, self.b, strict=True):
            Y = Y + h * torch.tanh(Y @ K.T + b)
        z = Y @ self.W.T + self.mu
        loss = torch.nn.functional.cross_entropy(z, self.y)
        tik = self.open_K.square().sum() + self.open_b.square().sum()
        tik = tik + sum(
            K.square().sum() + b.square().sum() for K, b in zip(self.K, self.b, strict=True)
        )
        ddt = sum(
            (self.K[n] - self.K[n - 1]).square().sum() + (self.b[n] - self.b[n - 1]).square().sum()
            for n in range(1, len(self.K))
        )
        cls = self.W.square().sum() + self.mu.square().sum()
        reg = 0.5 * (c.gamma_tik * tik + c.gamma_ddt * ddt / h**2 + c.gamma_class * cls)
        return loss + reg

    def objective_and_gradient(self):
        for leaf in self.leaves:
            leaf.grad = None
        J = self.objective()
        J.backward()
        return J

    def flat_gradient(self) -> np.ndarray:
        """Gradient in the design-vector order of :meth:`Params.to_flat`."""
        parts = [self.open_K.grad.ravel(), self.open_b.grad.ravel()]
        for K, b in zip(self.K, self.b, strict=True):
            parts += [K.grad.ravel(), b.grad.ravel()]
        parts += [self.W.grad.ravel(), self.mu.grad.ravel()]
        return self.torch.cat(parts).numpy()


# ---- timing -----------------------------------------------------------------------------------


def gemm_limit(case: Case, dtype: str):
    """The GEMMs of one gradient evaluation alone: ``3 N + 2`` products ``(B, w) x (w, w)``."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((case.n_samples, case.width)).astype(dtype)
    K = rng.standard_normal((case.width, case.width)).astype(dtype)
    C = np.empty_like(A)
    count = 3 * case.n_layers + (2 if case.n_features == case.width else 0)

    def run():
        for _ in range(count):
            np.matmul(A, K, out=C)

    return run


def run_case(case: Case, dtypes: tuple[str, ...], reps: int, torch) -> list[dict]:
    """Interleaved CPU times of every variant of ``case``; rows of paired ratios."""
    base, params, X, y = problem(case)
    variants, checks = {}, {}
    for dt in dtypes:
        config = replace(base, dtype=dt)
        prop = SerialPropagation()
        variants[f"ours {dt}"] = lambda prop=prop, config=config: prop.evaluate(
            config, params, X, y, gradient=True
        )
        if torch is not None:
            net = TorchNetwork(torch, config, params, X, y)
            J_t = float(net.objective_and_gradient().detach())
            ev = prop.evaluate(config, params, X, y, gradient=True)
            g = ev.gradient.to_flat().astype(np.float64)
            dg = float(np.linalg.norm(net.flat_gradient() - g) / np.linalg.norm(g))
            checks[dt] = (abs(J_t - ev.objective) / abs(ev.objective), dg)
            variants[f"torch {dt}"] = net.objective_and_gradient
    if case.n_features == case.width:
        variants["gemm float64"] = gemm_limit(case, "float64")
    times = paired_times(variants, reps)
    rows = []
    shape = {"case": case.name, "width": case.width, "n_layers": case.n_layers,
             "n_samples": case.n_samples, "n_params": base.n_params}  # fmt: skip

    def row(figure, dtype, num, den, **extra):
        rs = ratio_summary(times[num], times[den])
        rows.append({"figure": figure, **shape, "dtype": dtype,
                     "numerator": num, "denominator": den,
                     "num_cpu_ms": 1e3 * statistics.median(times[num]),
                     "den_cpu_ms": 1e3 * statistics.median(times[den]), **rs, **extra})  # fmt: skip

    for dt in dtypes:
        if f"torch {dt}" in variants:
            dJ, dg = checks[dt]
            row("ours/torch", dt, f"ours {dt}", f"torch {dt}", objective_rel_diff=dJ,
                gradient_rel_diff=dg)  # fmt: skip
    if "float32" in dtypes and "float64" in dtypes:
        row("ours float32/ours float64", "float32", "ours float32", "ours float64")
    if "gemm float64" in variants:
        row("gemm share", "float64", "gemm float64", "ours float64")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="timed repetitions per variant")
    parser.add_argument("--threads", type=int, default=1, help="threads for numpy and torch")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--no-torch", action="store_true", help="time only our implementation")
    parser.add_argument(
        "--name", default="iteration", help="CSV name under results/summaries/bench"
    )
    args = parser.parse_args(argv)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch not installed: timing only our implementation", file=sys.stderr)
    threads = limit_threads(args.threads, torch)
    ctx = context(f"torch {torch.__version__}" if torch is not None else "none", threads)
    print(f"threads: {threads}; reps: {args.reps} (interleaved, CPU time)")
    rows = []
    for name in args.cases:
        for r in run_case(CASES[name], DTYPES[name], args.reps, torch):
            rows.append({**r, "reps": args.reps, **ctx})
            print(f"{r['case']:6} {r['dtype']:8} {r['figure']:26} {r['num_cpu_ms']:9.1f} ms / "
                  f"{r['den_cpu_ms']:9.1f} ms = {r['ratio']:.3f} "
                  f"[{r['ratio_lo']:.3f}, {r['ratio_hi']:.3f}]")  # fmt: skip
    write_rows(args.name, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
