"""Sampling and summaries: preference pairs, leak-free splits, statistics."""

from .pairs import PairReport, PreferencePair, apply_pairs, iter_pairs, sample_pairs
from .splits import split_trees
from .stats import tree_stats

__all__ = [
    "PairReport",
    "PreferencePair",
    "apply_pairs",
    "iter_pairs",
    "sample_pairs",
    "split_trees",
    "tree_stats",
]
