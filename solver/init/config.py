"""Configuration of the random / zero initialisation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from solver.errors import ConfigError

__all__ = ["InitConfig", "DISTRIBUTIONS"]

Distribution = Literal["normal", "uniform", "reference", "zero"]
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform", "reference", "zero")


@dataclass(frozen=True)
class InitConfig:
    """How :func:`solver.init.initialize` draws the initial weights.

    Every entry of a group (opening, hidden, classifier; weights and biases alike) is
    ``scale_group * u`` with ``u`` drawn from:

    * ``"normal"``: ``N(0, 1)`` (centred), numpy ``Generator(PCG64(seed))``;
    * ``"uniform"``: ``U(-1, 1)`` (centred), numpy ``Generator(PCG64(seed))``;
    * ``"reference"``: ``rand() / RAND_MAX`` in ``[0, 1]`` (not centred) after ``srand(seed)``
      from glibc's generator, like the reference code (which uses ``seed = 1``);
    * ``"zero"``: 0 (scales and seed are ignored).

    One stream runs over the design vector in the order opening, hidden ``0..N-1``, classifier
    (each layer: weights row-major ``out x in``, then bias).

    Attributes:
        distribution: one of the above.
        scale_open, scale_hidden, scale_class: group scales, finite and ``>= 0``.
        seed: non-negative integer (``< 2^32`` for ``"reference"``, C's ``unsigned int``).
    """

    distribution: Distribution = "normal"
    scale_open: float = 1e-3
    scale_hidden: float = 1e-3
    scale_class: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ConfigError(
                f"`distribution` must be one of {', '.join(DISTRIBUTIONS)}; got "
                f"distribution={self.distribution!r}."
            )
        for name in ("scale_open", "scale_hidden", "scale_class"):
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"`{name}` must be a finite number >= 0; got {name}={value!r}. "
                    "Use 0 for a zero block."
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"`seed` must be a non-negative integer; got seed={self.seed!r}.")
        if self.distribution == "reference" and self.seed >= 2**32:
            raise ConfigError(
                f"`seed` must be < 2**32 for distribution='reference' (C srand takes an unsigned "
                f"int); got seed={self.seed}."
            )
