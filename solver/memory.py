"""Memory estimate of one training run, checked before anything large is allocated.

The dominant arrays of a serial (or one rank's layer-parallel) sweep are the layer states and
the stored activations, each of shape ``(N + 1, B, w)`` float64 for ``N`` layers, ``B`` samples
per gradient evaluation (the training set, or ``batch_size``) and width ``w``, plus the
parameter-sized vectors (design vector, gradient, ``2 m`` L-BFGS pairs, ~ ``(2 m + 6)`` copies of
``N w (w + 1)`` values)::

    bytes ~ 8 * [ 2 (N + 1) B w  +  (2 m + 6) N w (w + 1) ]

It is a lower bound (temporaries come on top); a run whose estimate exceeds the memory this
machine has available cannot succeed and is refused with the number.
"""

from __future__ import annotations

import os

from solver.errors import ConfigError

__all__ = ["estimate_bytes", "available_bytes", "check_memory"]


def estimate_bytes(
    n_layers: int, width: int, n_samples: int, *, lbfgs_memory: int = 10, n_ranks: int = 1
) -> int:
    """Estimated bytes of one training run (see the module docstring), per rank."""
    states = 2 * (n_layers // max(n_ranks, 1) + 1) * n_samples * width
    params = (2 * lbfgs_memory + 6) * n_layers * width * (width + 1)
    return 8 * (states + params)


def available_bytes() -> int | None:
    """``MemAvailable`` from ``/proc/meminfo`` (Linux), else physical memory, else ``None``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(
    n_layers: int, width: int, n_samples: int, *, lbfgs_memory: int = 10, n_ranks: int = 1,
    available: int | None = None,
) -> int:  # fmt: skip
    """Return the estimate; raise when it exceeds the available memory.

    Raises:
        ConfigError: names the layers, the samples, the estimate and the memory available.
    """
    need = estimate_bytes(n_layers, width, n_samples, lbfgs_memory=lbfgs_memory, n_ranks=n_ranks)
    have = available_bytes() if available is None else available
    if have is not None and need > have:
        raise ConfigError(
            f"`n_layers`={n_layers} (width {width}, {n_samples} samples per gradient) needs about "
            f"{need / 2**30:.1f} GiB, more than the {have / 2**30:.1f} GiB available. Fix: use "
            "fewer layers, a smaller batch_size or fewer samples, or more MPI ranks."
        )
    return need
