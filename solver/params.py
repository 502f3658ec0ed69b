"""Parameter container of the ODE-ResNet and its flat-vector view.

Shapes (``d`` features, ``w`` width, ``N`` hidden layers, ``C`` classes, ``nb`` bias entries per
layer: ``w`` for ``bias="vector"``, 1 for ``bias="scalar"``):

=========  ============  ==========================================
field      shape         meaning
=========  ============  ==========================================
open_K     (w, d)        opening weights (``(0, d)`` for ``opening="pad"``)
open_b     (nb,)         opening bias (``(0,)`` for ``opening="pad"``)
K          (N, w, w)     hidden-layer weights, ``K[n]`` acts as ``Y_n K_n^T``
b          (N, nb)       hidden-layer biases
W          (C, w)        classifier weights
mu         (C,)          classifier bias
=========  ============  ==========================================

The flat order is opening (weights row-major, then bias), hidden layers ``0..N-1`` (each:
weights row-major, then bias), classifier (weights row-major, then bias): the order of the
reference code's design vector.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from solver.config import NetworkConfig
from solver.errors import ConfigError, DataError

__all__ = ["Params", "param_shapes"]

FIELDS = ("open_K", "open_b", "K", "b", "W", "mu")


def param_shapes(config: NetworkConfig) -> dict[str, tuple[int, ...]]:
    """Shapes of every field for ``config`` (see the module docstring)."""
    w, d, n, c, nb = (
        config.width,
        config.n_features,
        config.n_layers,
        config.n_classes,
        config.bias_size,
    )
    pad = config.opening == "pad"
    return {
        "open_K": (0, d) if pad else (w, d),
        "open_b": (0,) if pad else (nb,),
        "K": (n, w, w),
        "b": (n, nb),
        "W": (c, w),
        "mu": (c,),
    }


@dataclass
class Params:
    """Weights and biases of an ODE-ResNet (see the module docstring for shapes)."""

    open_K: np.ndarray
    open_b: np.ndarray
    K: np.ndarray
    b: np.ndarray
    W: np.ndarray
    mu: np.ndarray

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def zeros(cls, config: NetworkConfig) -> Params:
        dt = config.np_dtype
        return cls(**{k: np.zeros(s, dt) for k, s in param_shapes(config).items()})

    @classmethod
    def from_flat(cls, config: NetworkConfig, vector: np.ndarray) -> Params:
        """Views into ``vector`` (no copy when it has the config's dtype, else a cast copy) in
        the design-vector order of the module docstring."""
        vector = np.asarray(vector, dtype=config.np_dtype)
        shapes = param_shapes(config)
        size = sum(int(np.prod(s)) for s in shapes.values())
        if vector.shape != (size,):
            raise ConfigError(
                f"flat parameter vector must have shape ({size},) for this network; "
                f"got {vector.shape}."
            )
        w, nb, n = config.width, config.bias_size, config.n_layers
        d = config.n_features
        pos = 0
        n_open_k = int(np.prod(shapes["open_K"]))
        open_K = vector[pos : pos + n_open_k].reshape(shapes["open_K"])
        pos += n_open_k
        open_b = vector[pos : pos + shapes["open_b"][0]]
        pos += shapes["open_b"][0]
        per_layer = w * w + nb
        hidden = vector[pos : pos + n * per_layer].reshape(n, per_layer)
        K = hidden[:, : w * w].reshape(n, w, w)
        b = hidden[:, w * w :]
        pos += n * per_layer
        c = config.n_classes
        W = vector[pos : pos + c * w].reshape(c, w)
        pos += c * w
        mu = vector[pos : pos + c]
        del d
        return cls(open_K=open_K, open_b=open_b, K=K, b=b, W=W, mu=mu)

    def to_flat(self) -> np.ndarray:
        """Concatenate into a new design vector (order as in the module docstring)."""
        n = self.K.shape[0]
        hidden = np.concatenate([self.K.reshape(n, -1), self.b.reshape(n, -1)], axis=1)
        return np.concatenate(
            [self.open_K.ravel(), self.open_b.ravel(), hidden.ravel(), self.W.ravel(), self.mu]
        )

    # ---- small conveniences ---------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return int(self.K.shape[0])

    @property
    def size(self) -> int:
        return sum(getattr(self, k).size for k in FIELDS)

    def copy(self) -> Params:
        return Params(**{k: getattr(self, k).copy() for k in FIELDS})

    @property
    def dtype(self) -> np.dtype:
        return self.K.dtype

    def astype(self, dtype: np.dtype | str) -> Params:
        """These parameters in ``dtype`` (``self`` when they already are)."""
        if self.K.dtype == np.dtype(dtype) and all(
            getattr(self, k).dtype == np.dtype(dtype) for k in FIELDS
        ):
            return self
        return Params(**{k: getattr(self, k).astype(dtype) for k in FIELDS})

    def map_layers(self, M: np.ndarray) -> Params:
        """New parameters whose hidden layers are ``M`` times these: ``K'_i = sum_j M_ij K_j``,
        ``b'_i = sum_j M_ij b_j`` (``M`` of shape ``(N', N)``); opening and classifier copied.

        Layer refinement (interpolation matrices) and spline knot insertion are such maps.
        """
        return Params(
            open_K=self.open_K.copy(),
            open_b=self.open_b.copy(),
            K=np.tensordot(M, self.K, axes=(1, 0)),
            b=M @ self.b,
            W=self.W.copy(),
            mu=self.mu.copy(),
        )

    def check(self, config: NetworkConfig) -> None:
        """Raise :class:`ConfigError` if any field's shape does not fit ``config``."""
        for name, shape in param_shapes(config).items():
            got = getattr(self, name).shape
            if got != shape:
                raise ConfigError(
                    f"parameter `{name}` has shape {got} but the network config needs {shape} "
                    f"(width={config.width}, n_layers={config.n_layers}, bias={config.bias!r}, "
                    f"opening={config.opening!r})."
                )

    def allclose(self, other: Params, rtol: float = 1e-12, atol: float = 0.0) -> bool:
        return all(
            np.allclose(getattr(self, k), getattr(other, k), rtol=rtol, atol=atol) for k in FIELDS
        )

    # ---- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path, config: NetworkConfig | None = None) -> None:
        """Write an ``.npz`` file with every field (and the config's fields, if given)."""
        extra = {}
        if config is not None:
            extra = {f"config.{k}": np.asarray(v) for k, v in config.to_dict().items()}
        np.savez(Path(path), **{k: getattr(self, k) for k in FIELDS}, **extra)

    @classmethod
    def load(cls, path: str | Path, config: NetworkConfig | None = None) -> Params:
        """Read a file written by :meth:`save`; check shapes against ``config`` if given."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"parameter file {path} does not exist.")
        try:
            archive = np.load(path, allow_pickle=False)
            if not hasattr(archive, "files"):
                raise ValueError("a single array, not an .npz archive")
        except (ValueError, OSError, EOFError):
            raise DataError(
                f"parameter file {path} is not an .npz archive written by Params.save. Fix: pass "
                "the params.npz that `python -m solver train` or Params.save wrote."
            ) from None
        with archive as data:
            missing = [k for k in FIELDS if k not in data.files]
            if missing:
                raise DataError(
                    f"parameter file {path} lacks {', '.join(missing)}; it was not written by "
                    "Params.save."
                )
            params = cls(**{k: np.array(data[k], dtype=np.float64) for k in FIELDS})
        if config is not None:
            params.check(config)
        return params

    @staticmethod
    def load_config(path: str | Path) -> NetworkConfig:
        """The :class:`NetworkConfig` stored by :meth:`save` (with ``config=``)."""
        with np.load(Path(path)) as data:
            names = [f.name for f in fields(NetworkConfig)]
            values = {}
            for name in names:
                key = f"config.{name}"
                if key not in data.files:
                    raise DataError(f"parameter file {path} has no stored config ({key} missing).")
                values[name] = data[key].item()
        return NetworkConfig(**values)
