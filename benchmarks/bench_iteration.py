"""Time one training iteration (objective + gradient) against PyTorch CPU autograd.

Cases (full batch, tanh, vector bias, dense opening, all gammas 1e-7, float64):

* ``peaks``: width 8, N = 30, 5000 samples, 2 features, 5 classes;
* ``wide``:  width 220, N = 27, 4000 samples, 220 features, 16 classes (Indian Pines shape).

"ours" is ``solver.network.objective_and_gradient``; "torch" is the same network written with
``torch`` tensors (one leaf tensor per layer, as an ``nn.ModuleList`` would hold them) and
``loss.backward()``. Repetitions are interleaved (ours, torch, ours, torch, ...) after a warm-up
and the table shows medians of wall time and of process CPU time (the latter is steadier when
other jobs share the machine; with one thread it is the compute time). Both libraries get the
same number of threads: ``--threads`` (default 1, because the machine has 2 cores shared with
other jobs); numpy's BLAS is limited with ``threadpoolctl``, torch with
``torch.set_num_threads`` and ``set_num_interop_threads``.
Torch is optional (``pip install torch``); without it only our timings are printed.

Usage::

    python benchmarks/bench_iteration.py [--reps 7] [--threads 1] [--cases peaks wide]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from solver.config import NetworkConfig
from solver.init import InitConfig, initialize
from solver.network import objective_and_gradient
from solver.params import Params


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
}


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

        def leaf(a: np.ndarray):
            return torch.tensor(a, dtype=torch.float64, requires_grad=True)

        self.open_K, self.open_b = leaf(params.open_K), leaf(params.open_b)
        self.K = [leaf(k) for k in params.K]
        self.b = [leaf(b) for b in params.b]
        self.W, self.mu = leaf(params.W), leaf(params.mu)
        self.leaves = [self.open_K, self.open_b, *self.K, *self.b, self.W, self.mu]
        self.X = torch.tensor(X, dtype=torch.float64)
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


def _time(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of one call; CPU time (all threads of this process) is the steadier
    figure when other jobs share the cores."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def run_case(case: Case, reps: int, torch) -> dict:
    config, params, X, y = problem(case)

    def ours():
        return objective_and_gradient(config, params, X, y)

    J, grad = ours()
    row = {"case": case.name, "n_params": config.n_params, "ours": [], "torch": []}
    net = None
    if torch is not None:
        net = TorchNetwork(torch, config, params, X, y)
        J_t = float(net.objective_and_gradient().detach())
        g_t = net.flat_gradient()
        g = grad.to_flat()
        row["objective_rel_diff"] = abs(J_t - J) / abs(J)
        row["gradient_rel_diff"] = float(np.linalg.norm(g_t - g) / np.linalg.norm(g))
    for _ in range(reps):
        row["ours"].append(_time(ours))
        if net is not None:
            row["torch"].append(_time(net.objective_and_gradient))
    return row


def set_threads(n: int, torch) -> str:
    """Limit numpy's BLAS (threadpoolctl) and torch to ``n`` threads; describe the setting."""
    note = []
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
        note.append(f"numpy BLAS {n} (threadpoolctl)")
    except ImportError:
        note.append("numpy BLAS default (threadpoolctl missing; set OPENBLAS_NUM_THREADS)")
    if torch is not None:
        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:
            pass
        note.append(f"torch {torch.get_num_threads()}")
    return ", ".join(note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions per library")
    parser.add_argument("--threads", type=int, default=1, help="threads for numpy and torch")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=["peaks", "wide"])
    parser.add_argument("--no-torch", action="store_true", help="time only our implementation")
    args = parser.parse_args(argv)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch not installed: timing only our implementation", file=sys.stderr)
    print(f"threads: {set_threads(args.threads, torch)}; reps: {args.reps} (interleaved)")
    if torch is not None:
        print(f"torch {torch.__version__}, numpy {np.__version__}")
    header = (
        f"{'case/clock':10} {'params':>8} {'ours [ms]':>10} {'torch [ms]':>11} {'ours/torch':>10} "
        f"{'|dJ|/J':>9} {'|dg|/|g|':>9}"
    )
    print(header)
    print("-" * len(header))
    for name in args.cases:
        row = run_case(CASES[name], args.reps, torch)
        for k, clock in enumerate(("wall", "cpu")):
            ours = 1e3 * statistics.median(t[k] for t in row["ours"])
            label = f"{name}/{clock}"
            if row["torch"]:
                tor = 1e3 * statistics.median(t[k] for t in row["torch"])
                print(
                    f"{label:10} {row['n_params']:8d} {ours:10.2f} {tor:11.2f} {ours / tor:10.2f} "
                    f"{row['objective_rel_diff']:9.1e} {row['gradient_rel_diff']:9.1e}"
                )
            else:
                print(f"{label:10} {row['n_params']:8d} {ours:10.2f} {'-':>11} {'-':>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
