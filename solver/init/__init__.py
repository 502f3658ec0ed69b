"""Initial weights: centred normal / uniform, the reference code's glibc stream, or zeros."""

from solver.init.config import DISTRIBUTIONS, InitConfig
from solver.init.glibc_rand import RAND_MAX, GlibcRandom, glibc_rand, glibc_uniform
from solver.init.initialize import draw_stream, group_scales, initialize

__all__ = [
    "DISTRIBUTIONS",
    "RAND_MAX",
    "GlibcRandom",
    "InitConfig",
    "draw_stream",
    "glibc_rand",
    "glibc_uniform",
    "group_scales",
    "initialize",
]
