"""A virtual clock per rank: the critical-path time of P ranks, even when they share 2 cores.

Rules (Lamport-style, with costs):

* a local step advances the clock by its cost -- 1 per step (``cost="unit"``) or the measured
  wall time of the step (``cost="measured"``);
* every message carries the sender's clock ``t_s``; on receipt the receiver sets
  ``t = max(t, t_s + latency)``;
* a collective over P ranks sets every clock to ``max_r t_r + latency * ceil(log2 P)``.

The largest clock at the end is the time P dedicated processors would have needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

from solver.errors import ConfigError

__all__ = ["VirtualClock", "CostModel"]

CostModel = Literal["unit", "measured"]
T = TypeVar("T")


class VirtualClock:
    """Per-rank modelled time ``t`` (units: steps for ``"unit"``, seconds for ``"measured"``)."""

    def __init__(self, *, latency: float = 0.0, cost: CostModel = "unit") -> None:
        if not (latency >= 0.0 and math.isfinite(latency)):
            raise ConfigError(
                f"`latency` must be a finite number >= 0; got {latency}. "
                "Fix: pass e.g. 0.0 or 1e-5."
            )
        if cost not in ("unit", "measured"):
            raise ConfigError(f"`cost` must be 'unit' or 'measured'; got {cost!r}.")
        self.latency = float(latency)
        self.cost: CostModel = cost
        self.time = 0.0

    def advance(self, dt: float) -> None:
        """Add a local cost ``dt >= 0``."""
        self.time += dt

    @contextmanager
    def step(self, units: float = 1.0) -> Iterator[None]:
        """Time a piece of local work: adds ``units`` (unit cost; 1 = one layer step) or the
        measured seconds."""
        if self.cost == "unit":
            yield
            self.time += units
            return
        start = time.perf_counter()
        yield
        self.time += time.perf_counter() - start

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` timed as one step (the hot-path form of :meth:`step`)."""
        if self.cost == "unit":
            out = fn(*args)
            self.time += 1.0
            return out
        start = time.perf_counter()
        out = fn(*args)
        self.time += time.perf_counter() - start
        return out

    def receive(self, sender_time: float) -> None:
        """A message stamped ``sender_time`` arrived: ``t = max(t, sender_time + latency)``."""
        self.time = max(self.time, sender_time + self.latency)

    def collective(self, max_time: float, size: int) -> None:
        """After a collective over ``size`` ranks whose largest clock was ``max_time``."""
        hops = math.ceil(math.log2(size)) if size > 1 else 0
        self.time = max(self.time, max_time) + self.latency * hops
