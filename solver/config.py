"""Network configuration: the ODE-ResNet that the solver trains.

The network maps samples (rows of ``X``, shape ``(B, d)``) to class scores:

* opening layer ``Y_0 = sigma(X K_open^T + b_open)``  (or zero-padding of ``X`` to the width);
* hidden layers ``Y_{n+1} = Y_n + h sigma(Y_n K_n^T + b_n)``, ``n = 0..N-1``, ``h = T/N``;
* classifier ``z = Y_N W^T + mu`` and mean softmax cross-entropy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np

from solver.errors import ConfigError

__all__ = ["NetworkConfig", "ACTIVATIONS", "DTYPES"]

Activation = Literal["tanh", "relu", "smoothrelu"]
ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "smoothrelu")
DTYPES: tuple[str, ...] = ("float64", "float32")


@dataclass(frozen=True)
class NetworkConfig:
    """Shape and objective of an ODE-ResNet classifier.

    Attributes:
        n_features: input dimension ``d``.
        n_classes: number of classes ``C``.
        width: channels ``w`` of every hidden state (``w >= C``; ``w >= d`` for ``opening="pad"``).
        n_layers: number of hidden (residual) layers ``N``.
        t_final: final time ``T``; the step is ``h = T / N``.
        activation: ``"tanh"``, ``"relu"`` or ``"smoothrelu"`` (``eta = 0.1``).
        bias: ``"vector"`` (one bias per channel, shape ``(w,)`` per layer) or ``"scalar"``
            (one bias per layer as in the published reference code, stored with shape ``(1,)``).
        opening: ``"dense"`` (``Y_0 = sigma(X K_open^T + b_open)``) or ``"pad"`` (zero-pad ``X``
            to the width; no opening parameters; the reference code's choice for opening scale 0).
        gamma_tik: Tikhonov weight on opening and hidden layers, ``gamma_tik/2 sum(|K|^2 + |b|^2)``.
        gamma_ddt: weight of the time-derivative regulariser
            ``gamma_ddt/2 sum_{n>=1} (|K_n - K_{n-1}|^2 + |b_n - b_{n-1}|^2) / h^2``.
        gamma_class: classifier weight ``gamma_class/2 (|W|^2 + |mu|^2)``.
        ddt_gradient: ``"exact"`` differentiates the ddt term; ``"reference"`` reproduces the
            reference code, whose gradient of that term is zero (an integer-truncation bug) while
            its value is still added to the objective.
        dtype: floating-point type of data, parameters and propagation (serial and MGRIT):
            ``"float64"`` (default, the reference) or ``"float32"`` (about half the memory
            traffic; gradients agree with float64 to about 1e-4 relative, see
            ``docs/ARCHITECTURE.md``).  Optimisers keep the design vector, the L-BFGS history
            and the line-search comparisons in float64.
    """

    n_features: int
    n_classes: int
    width: int
    n_layers: int
    t_final: float = 5.0
    activation: Activation = "tanh"
    bias: Literal["vector", "scalar"] = "vector"
    opening: Literal["dense", "pad"] = "dense"
    gamma_tik: float = 0.0
    gamma_ddt: float = 0.0
    gamma_class: float = 0.0
    ddt_gradient: Literal["exact", "reference"] = "exact"
    dtype: Literal["float64", "float32"] = "float64"

    def __post_init__(self) -> None:
        for name in ("n_features", "n_classes", "width", "n_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"`{name}` must be a positive integer; got {name}={value!r}.")
        if self.n_classes < 2:
            raise ConfigError(f"`n_classes` must be at least 2; got n_classes={self.n_classes}.")
        if self.width < self.n_classes:
            raise ConfigError(
                f"`width` must be >= the number of classes; got width={self.width}, "
                f"n_classes={self.n_classes}. Use width >= {self.n_classes}."
            )
        if self.opening == "pad" and self.width < self.n_features:
            raise ConfigError(
                f"`opening='pad'` zero-pads the features to the width, so `width` must be >= "
                f"n_features; got width={self.width}, n_features={self.n_features}. "
                "Use opening='dense' or a larger width."
            )
        if not (isinstance(self.t_final, int | float) and math.isfinite(self.t_final)) or (
            self.t_final <= 0
        ):
            raise ConfigError(f"`t_final` must be a positive number; got t_final={self.t_final!r}.")
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("bias", self.bias, ("vector", "scalar"))
        _check_choice("opening", self.opening, ("dense", "pad"))
        _check_choice("ddt_gradient", self.ddt_gradient, ("exact", "reference"))
        _check_choice("dtype", self.dtype, DTYPES)
        for name in ("gamma_tik", "gamma_ddt", "gamma_class"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"`{name}` must be a finite number >= 0; got {name}={value!r}. "
                    "Use 0 to disable."
                )

    @property
    def np_dtype(self) -> np.dtype:
        """``numpy.dtype(self.dtype)``."""
        return np.dtype(self.dtype)

    @property
    def h(self) -> float:
        """Step size ``h = T / N``."""
        return self.t_final / self.n_layers

    @property
    def bias_size(self) -> int:
        """Entries of one layer's bias: ``w`` for vector bias, 1 for scalar bias."""
        return self.width if self.bias == "vector" else 1

    @property
    def n_params(self) -> int:
        """Number of trainable parameters of the plain (one weight set per layer) network."""
        w, d, c, nb = self.width, self.n_features, self.n_classes, self.bias_size
        opening = 0 if self.opening == "pad" else w * d + nb
        return opening + self.n_layers * (w * w + nb) + c * w + c

    def with_layers(self, n_layers: int, t_final: float | None = None) -> NetworkConfig:
        """The same network with ``n_layers`` hidden layers (and optionally a new ``t_final``)."""
        return replace(
            self, n_layers=n_layers, t_final=self.t_final if t_final is None else t_final
        )

    def to_dict(self) -> dict:
        return asdict(self)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"`{name}` must be one of {', '.join(choices)}; got {name}={value!r}.")
