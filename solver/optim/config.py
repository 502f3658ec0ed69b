"""Configuration of the optimisers: one frozen dataclass, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from solver.errors import ConfigError

__all__ = ["OptimizerConfig", "OPTIMIZERS", "REFERENCE_OPTIMIZER"]

OptimizerName = Literal["sgd", "adam", "lbfgs"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "lbfgs")

REFERENCE_OPTIMIZER: dict[str, object] = {
    "name": "lbfgs",
    "learning_rate": 1.0,
    "memory": 20,
    "bad_curvature": "keep",
    "non_descent": "keep",
    "line_search": True,
    "ls_factor": 0.5,
    "ls_max_tries": 20,
    "armijo_c1": 1e-4,
    "ls_fail": "take_last",
    "batch_size": None,
}
"""Field values of :meth:`OptimizerConfig.reference` (the reference code's ``Config`` defaults)."""


@dataclass(frozen=True)
class OptimizerConfig:
    """Options of :func:`solver.optim.make_optimizer`.

    Attributes:
        name: ``"sgd"`` (momentum, optionally Nesterov), ``"adam"`` (bias-corrected) or
            ``"lbfgs"`` (two-loop recursion with backtracking Armijo line search).
        learning_rate: step length ``alpha`` of sgd/adam; for a line search the first trial
            step (the reference code uses 1).
        momentum: heavy-ball coefficient ``beta`` of sgd, ``0 <= beta < 1`` (0 = plain gradient
            descent).
        nesterov: use Nesterov's look-ahead form of the sgd momentum.
        beta1, beta2, eps: Adam's moment decay rates (``0 <= beta < 1``) and denominator guard.
        memory: number ``m`` of L-BFGS curvature pairs kept.
        curvature_eps: an L-BFGS pair ``(s, y)`` is skipped when
            ``s.y <= curvature_eps * |s| |y|`` (bad curvature).
        bad_curvature: on a bad-curvature pair, ``"skip"`` drops the pair and keeps the
            memory; ``"reset"`` also clears the memory (the next direction is ``-g``);
            ``"keep"`` stores it anyway (``s.y = 0`` read as 1), as the reference code's memory
            update does (it has no curvature test). The two-loop direction built from such a
            pair may not be a descent direction; what happens then is ``non_descent``'s choice
            (only ``non_descent="keep"`` together with ``bad_curvature="keep"`` is the reference
            code's optimiser). With Armijo-only backtracking, ``"skip"`` can stall on a stale,
            badly scaled memory (Rosenbrock from (-1.2, 1): 673 iterations to |g| < 1e-8
            against 41 with ``"reset"``).
        non_descent: what L-BFGS does when the two-loop direction ``d`` has ``g.d >= 0``:
            ``"reset"`` (default) clears the memory and uses ``d = -g`` (a safeguard the
            reference code does not have); ``"keep"`` searches along ``d`` as it is, like the
            reference code: the Armijo test ``f(x + a d) <= f(x) + c1 a g.d`` then normally
            fails for every trial, and ``ls_fail`` decides the step (``"take_last"``: move to
            the last, smallest trial step, as the reference code does). The run goes on; the
            train loop counts these events in ``TrainResult.extras["optimizer"]`` and names
            them in the message.
        line_search: ``None`` (default) means on for lbfgs and off for sgd; ``True``/``False``
            force it for lbfgs and sgd. Adam has no line search.
        ls_factor: backtracking factor ``rho`` in ``(0, 1)`` (reference: 0.5).
        ls_max_tries: number of trial steps before the line search gives up (reference: 20).
        armijo_c1: sufficient-decrease constant ``c1`` in ``(0, 1)`` of
            ``f(x + a d) <= f(x) + c1 a g.d``.
        ls_fail: what a failed line search returns: ``"take_last"`` moves to the last trial
            step like the reference code (if its objective is finite), ``"reject"`` stays at
            ``x`` (and L-BFGS forgets its memory).
        batch_size: ``None`` for full batch, otherwise samples per step (used by the train loop).
    """

    name: OptimizerName = "lbfgs"
    learning_rate: float = 1.0
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    memory: int = 10
    curvature_eps: float = 1e-10
    bad_curvature: Literal["skip", "reset", "keep"] = "skip"
    non_descent: Literal["reset", "keep"] = "reset"
    line_search: bool | None = None
    ls_factor: float = 0.5
    ls_max_tries: int = 20
    armijo_c1: float = 1e-4
    ls_fail: Literal["take_last", "reject"] = "take_last"
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ConfigError(
                f"`name` must be one of {', '.join(OPTIMIZERS)}; got name={self.name!r}."
            )
        _positive("learning_rate", self.learning_rate, "use e.g. 1.0 for lbfgs, 1e-2 for adam")
        _positive("eps", self.eps, "use e.g. 1e-8")
        _positive("curvature_eps", self.curvature_eps, "use e.g. 1e-10")
        _unit_interval("momentum", self.momentum, closed_left=True, fix="use 0 to disable")
        _unit_interval("beta1", self.beta1, closed_left=True, fix="use e.g. 0.9")
        _unit_interval("beta2", self.beta2, closed_left=True, fix="use e.g. 0.999")
        _unit_interval("ls_factor", self.ls_factor, closed_left=False, fix="use e.g. 0.5")
        _unit_interval("armijo_c1", self.armijo_c1, closed_left=False, fix="use e.g. 1e-4")
        _positive_int("memory", self.memory, "use e.g. 10")
        _positive_int("ls_max_tries", self.ls_max_tries, "use e.g. 20")
        if self.batch_size is not None:
            _positive_int("batch_size", self.batch_size, "use None for full batch")
        if not isinstance(self.nesterov, bool):
            raise ConfigError(f"`nesterov` must be True or False; got nesterov={self.nesterov!r}.")
        if self.line_search is not None and not isinstance(self.line_search, bool):
            raise ConfigError(
                f"`line_search` must be None, True or False; got line_search={self.line_search!r}."
            )
        if self.name == "adam" and self.line_search:
            raise ConfigError(
                "`line_search` is not available for name='adam' (its step is not a descent "
                "direction in general); got line_search=True. Use name='sgd' or 'lbfgs', or "
                "line_search=None."
            )
        if self.bad_curvature not in ("skip", "reset", "keep"):
            raise ConfigError(
                f"`bad_curvature` must be 'skip', 'reset' or 'keep'; got "
                f"bad_curvature={self.bad_curvature!r}."
            )
        if self.non_descent not in ("reset", "keep"):
            raise ConfigError(
                f"`non_descent` must be 'reset' or 'keep'; got non_descent={self.non_descent!r}."
            )
        if self.ls_fail not in ("take_last", "reject"):
            raise ConfigError(
                f"`ls_fail` must be 'take_last' or 'reject'; got ls_fail={self.ls_fail!r}."
            )
        if self.nesterov and self.momentum == 0.0:
            raise ConfigError(
                "`nesterov=True` needs momentum > 0; got momentum=0. Set momentum (e.g. 0.9) or "
                "nesterov=False."
            )

    @classmethod
    def reference(cls, **overrides: object) -> OptimizerConfig:
        """The reference code's optimiser (its ``Config`` defaults), with ``overrides`` applied.

        Full-batch L-BFGS with memory 20 (``lbfgs_stages``), no curvature test
        (``bad_curvature="keep"``), no non-descent safeguard (``non_descent="keep"``),
        backtracking Armijo line search from step 1 (``stepsize_init``), factor 0.5
        (``ls_factor``), 20 trials (``ls_maxiter``), ``c1 = 1e-4`` (``ls_param``); a failed
        line search keeps the last trial step (``ls_fail="take_last"``).
        The rest of the reference set-up (scalar bias, ``rand()`` initialisation, zero ddt
        gradient) lives in :func:`solver.presets.reference_setup`.
        """
        fields = dict(REFERENCE_OPTIMIZER)
        fields.update(overrides)
        return cls(**fields)  # type: ignore[arg-type]

    @property
    def uses_line_search(self) -> bool:
        """Whether steps are chosen by backtracking (resolves ``line_search=None``)."""
        if self.line_search is None:
            return self.name == "lbfgs"
        return self.line_search


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value: object, fix: str) -> None:
    if not _is_number(value) or value <= 0:
        raise ConfigError(f"`{name}` must be a finite number > 0; got {name}={value!r}; {fix}.")


def _positive_int(name: str, value: object, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`{name}` must be a positive integer; got {name}={value!r}; {fix}.")


def _unit_interval(name: str, value: object, *, closed_left: bool, fix: str) -> None:
    low_ok = _is_number(value) and (value >= 0 if closed_left else value > 0)
    if not low_ok or value >= 1:
        interval = "[0, 1)" if closed_left else "(0, 1)"
        raise ConfigError(f"`{name}` must lie in {interval}; got {name}={value!r}; {fix}.")
