"""glibc's ``rand()`` / ``srand()`` (the TYPE_3 additive feedback generator), vectorised.

The reference code draws its initial weights as ``rand() / RAND_MAX`` after ``srand(1)``; this
module reproduces that stream bit for bit. glibc's algorithm (``random_r.c``):

* seeding: ``r[0] = seed`` (``seed = 0`` is replaced by 1), then for ``i = 1..30``
  ``r[i] = 16807 r[i-1] mod (2^31 - 1)`` computed in signed 32-bit arithmetic with Schrage's
  trick ``16807 (r % 127773) - 2836 (r / 127773)`` (+ ``2^31 - 1`` if negative);
  ``r[i] = r[i-31]`` for ``i = 31..33``;
* recurrence: ``r[i] = r[i-31] + r[i-3] mod 2^32`` for ``i >= 34``;
* output ``k = 0, 1, ...``: ``r[k + 344] >> 1`` (the first 310 recurrence values are discarded),
  an integer in ``[0, RAND_MAX]``, ``RAND_MAX = 2^31 - 1``.

Vectorisation: the recurrence is linear over ``Z / 2^32``, so the next ``B`` values are
``M @ state mod 2^32`` for the last 31 values ``state`` and a fixed integer matrix ``M`` of shape
``(B, 31)``; numpy's unsigned 64-bit matmul wraps modulo ``2^64``, which preserves residues
modulo ``2^32``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["RAND_MAX", "GlibcRandom", "glibc_rand", "glibc_uniform"]

RAND_MAX = 2147483647
_LAG = 31
_SHORT = 3
_DISCARD = 310
_MASK = np.uint64(0xFFFFFFFF)
_BLOCK = 31 * 64


def _seed_table(seed: int) -> list[int]:
    """The 34 words ``r[0..33]`` after ``srandom(seed)`` (before discarding), as ints mod 2^32."""
    seed = int(seed) & 0xFFFFFFFF
    if seed == 0:
        seed = 1
    word = seed - (1 << 32) if seed >= 1 << 31 else seed  # int32_t view of the seed
    r = [word]
    for _ in range(1, _LAG):
        hi = int(word / 127773)  # C division truncates towards zero
        lo = word - hi * 127773
        word = 16807 * lo - 2836 * hi
        if word < 0:
            word += 2147483647
        r.append(word)
    r.extend(r[i - _LAG] for i in range(_LAG, _LAG + _SHORT))
    return [v & 0xFFFFFFFF for v in r]


@lru_cache(maxsize=8)
def _advance_matrix(block: int) -> np.ndarray:
    """``M`` (``(block, 31)``, uint64): next ``block`` words = ``M @ last_31_words mod 2^32``."""
    rows = [np.eye(_LAG, dtype=np.uint64)[i] for i in range(_LAG)]
    for i in range(_LAG, _LAG + block):
        rows.append((rows[i - _LAG] + rows[i - _SHORT]) & _MASK)
    return np.array(rows[_LAG:], dtype=np.uint64)


class GlibcRandom:
    """Stateful glibc ``rand()`` stream: ``GlibcRandom(seed).rand(n)`` equals ``n`` C calls."""

    def __init__(self, seed: int = 1) -> None:
        table = _seed_table(seed)
        self._state = np.array(table[-_LAG:], dtype=np.uint64)  # r[3..33]
        self._raw(_DISCARD)

    def _raw(self, n: int) -> np.ndarray:
        """Next ``n`` recurrence words (uint64 holding 32-bit values), advancing the state."""
        out = np.empty(n, dtype=np.uint64)
        pos = 0
        while pos < n:
            block = min(_BLOCK, n - pos)
            words = (_advance_matrix(block) @ self._state) & _MASK
            out[pos : pos + block] = words
            self._state = np.concatenate([self._state, words])[-_LAG:]
            pos += block
        return out

    def rand(self, n: int) -> np.ndarray:
        """The next ``n`` values of ``rand()``, int64 in ``[0, RAND_MAX]``, shape ``(n,)``."""
        return (self._raw(int(n)) >> np.uint64(1)).astype(np.int64)

    def uniform(self, n: int) -> np.ndarray:
        """``rand() / RAND_MAX`` as float64, shape ``(n,)``, values in ``[0, 1]``."""
        return self.rand(n) / float(RAND_MAX)


def glibc_rand(seed: int, n: int) -> np.ndarray:
    """First ``n`` outputs of ``rand()`` after ``srand(seed)``, int64, shape ``(n,)``."""
    return GlibcRandom(seed).rand(n)


def glibc_uniform(seed: int, n: int) -> np.ndarray:
    """First ``n`` values of ``rand() / RAND_MAX`` after ``srand(seed)``, float64, ``(n,)``."""
    return GlibcRandom(seed).uniform(n)
