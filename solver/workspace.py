"""`Workspace`: working memory reused across evaluations of the same shapes.

A propagation object (serial or MGRIT) owns one workspace.  Every evaluation asks it for its
arrays by name — forward states ``(N+1, B, w)``, activations ``(N, B, w)``, adjoint buffers,
the per-layer temporaries :class:`~solver.layers.LayerWork` — and gets the array of the
previous evaluation back when name, shape and dtype match, so repeated evaluations (one per
optimisation step and line-search trial) neither allocate nor first-touch fresh memory.  When
the shape or dtype under a name changes (another batch size or depth), the old array is
dropped before the new one is made.  Contents are never cleared: callers overwrite them.
"""

from __future__ import annotations

import numpy as np

from solver.layers import LayerWork

__all__ = ["Workspace"]


class Workspace:
    """Named arrays and :class:`LayerWork` temporaries, reused while their shapes hold."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._work: dict[str, LayerWork] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """The array ``name`` of ``shape`` and ``dtype`` (uninitialised on first use)."""
        a = self._arrays.get(name)
        if a is None or a.shape != tuple(shape) or a.dtype != np.dtype(dtype):
            self._arrays.pop(name, None)  # free before allocating the replacement
            a = np.empty(shape, dtype)
            self._arrays[name] = a
        return a

    def layer_work(self, name: str, shape: tuple[int, int], dtype: np.dtype | type) -> LayerWork:
        """Temporaries for layer steps and VJPs on states of ``shape`` ``(B, w)``."""
        w = self._work.get(name)
        if w is None or w.S.shape != tuple(shape) or w.S.dtype != np.dtype(dtype):
            self._work.pop(name, None)
            w = LayerWork(shape, dtype)
            self._work[name] = w
        return w

    def clear(self) -> None:
        """Drop every array (memory is returned once no caller holds a view)."""
        self._arrays.clear()
        self._work.clear()

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        total = sum(a.nbytes for a in self._arrays.values())
        for w in self._work.values():
            total += sum(getattr(w, k).nbytes for k in ("S", "G", "dK", "ones"))
            total += sum(getattr(w.scratch, k).nbytes for k in ("t1", "t2", "m1", "m2"))
        return total
