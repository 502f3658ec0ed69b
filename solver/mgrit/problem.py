"""The propagator interface between a problem and the MGRIT engine.

The engine sees a problem only through two methods (integer fine layer indices everywhere):

``step(u, i, j, level) -> u_new``
    propagate state ``u`` from fine index ``i`` to ``j > i`` on ``level``.  On level 0,
    ``j = i + 1`` (one layer); on coarser levels one step spans ``j - i`` fine layers (the
    coarse propagator, e.g. forward Euler with ``h_c = (j - i) h``).  Must not modify ``u``.
``init_state(i) -> u``
    the initial condition for ``i = 0`` and the initial guess elsewhere (cold start).

Optional:

``final_step(u, i, j) -> u_new``
    the same level-0 step, called instead of ``step`` during the last relaxation and residual of
    a solve that stops by its iteration count (each fine step exactly once, with its final
    input; ``MGRITResult.final_pass`` says whether it happened).  Must return bitwise what
    ``step`` returns; may record by-products (the ResNet keeps activations / the gradient).

States are float64 (or float32) numpy arrays of one fixed shape and dtype.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Propagator"]


@runtime_checkable
class Propagator(Protocol):
    """What MGRIT needs from a problem (see module docstring)."""

    def step(self, u: np.ndarray, i: int, j: int, level: int) -> np.ndarray: ...

    def init_state(self, i: int) -> np.ndarray: ...
