"""Statistics over trees: counts, score distributions, tie rates, annotator
agreement, pair yield per strategy, and score histograms.

>>> import intermt_schema as im
>>> tree_stats([im.DialogueTree(id="t")])["trees"]
1
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from ..io._fs import safe_name
from ..schema._structs import DialogueTree
from ..tree._view import TreeView
from ._criteria import STRATEGIES
from ._lengths import RecordLengths, render_lengths

__all__ = ["TreeStats", "plot_stats", "render_stats", "tree_stats"]


def tree_stats(trees: Any, *, pair_yield: bool = True) -> dict[str, Any]:
    """Counts over trees, streaming: paths, nodes by role, branch points, turns per path,
    images, ratings and their score distribution by dimension, judgment outcomes and tie
    rates, annotator agreement, pair yield per strategy (unless ``pair_yield`` is
    False: it samples the pairs of every strategy), and the lengths of the training
    records (see :class:`RecordLengths`)."""
    counted = TreeStats(pair_yield=pair_yield)
    for tree in trees:
        counted.add(tree)
    return counted.result()


class TreeStats:
    """The counts of :func:`tree_stats`, tree by tree; counts made apart (on several
    machines) ``merge`` into one.

    >>> import intermt_schema as im
    >>> a, b = TreeStats(), TreeStats()
    >>> a.add(im.DialogueTree(id="t")); b.add(im.DialogueTree(id="u"))
    >>> a.merge(b).result()["trees"]
    2
    """

    _COUNTERS = ("nodes", "path_turns", "judgments", "pair_yield", "dimension_sets")
    _TALLIES = ("trees", "paths", "branch_points", "images")
    _BY_DIMENSION = ("outcomes",)

    def __init__(self, *, pair_yield: bool = True) -> None:
        self.pair_yield = pair_yield
        self.stats: dict[str, Any] = {key: 0 for key in self._TALLIES}
        self.stats.update({key: Counter() for key in self._COUNTERS})
        self.stats.update({key: {} for key in self._BY_DIMENSION})
        self.agree: dict[str, int | float] = {"pairs": 0, "exact": 0, "abs_diff": 0}
        self.lengths = RecordLengths()
        self.scored: Counter[tuple[str, int | float]] = Counter()  # (dimension, score)

    def add(self, tree: DialogueTree) -> None:
        """Count one tree."""
        from .pairs import sample_pairs

        stats, agree = self.stats, self.agree
        view = TreeView(tree)
        stats["trees"] += 1
        stats["dimension_sets"].update(tree.meta.dimension_sets or [""])  # "": the default
        self.lengths.add(tree)
        users: dict[str | None, int] = {None: 0}  # user turns from the root to a node
        for _, node in view.walk():  # linear in nodes, whatever the paths add up to
            users[node.id] = turns = users[node.parent] + (node.role == "user")
            below = view.child_count(node.id)
            if not below:
                stats["paths"] += 1
                stats["path_turns"][turns] += 1
            elif below > 1:
                stats["branch_points"] += 1
        stats["nodes"].update([n.role for n in tree.nodes])
        stats["images"] += sum(1 for _ in tree.images())
        ratings = tree.ratings
        self.scored.update([(r.dimension, r.score) for r in ratings])
        targets = [(r.target, r.scope, r.dimension) for r in ratings]
        if len(set(targets)) < len(targets):  # some target scored more than once
            by_target: dict[tuple[str, str, str], list[int | float]] = {}
            for target, r in zip(targets, ratings, strict=True):
                by_target.setdefault(target, []).append(r.score)
            for scores in by_target.values():
                for i in range(len(scores)):
                    for j in range(i + 1, len(scores)):
                        agree["pairs"] += 1
                        agree["exact"] += scores[i] == scores[j]
                        agree["abs_diff"] += abs(scores[i] - scores[j])
        for judgment in tree.judgments:
            stats["judgments"][judgment.scope] += 1
            for dim, outcome in judgment.outcomes.items():
                stats["outcomes"].setdefault(dim, Counter())[outcome] += 1
        for strategy in STRATEGIES if self.pair_yield else ():
            pairs, _ = sample_pairs([tree], strategy=strategy)
            stats["pair_yield"][strategy] += len(pairs)

    def merge(self, other: TreeStats) -> TreeStats:
        """Add ``other``'s counts to these; returns ``self``."""
        for key in self._TALLIES:
            self.stats[key] += other.stats[key]
        for key in self._COUNTERS:
            self.stats[key].update(other.stats[key])
        for key in self._BY_DIMENSION:
            for dim, counts in other.stats[key].items():
                self.stats[key].setdefault(dim, Counter()).update(counts)
        for key, value in other.agree.items():
            self.agree[key] += value
        self.lengths.merge(other.lengths)
        self.scored.update(other.scored)
        return self

    def result(self) -> dict[str, Any]:
        """The statistics, as :func:`tree_stats` gives them."""
        stats, agree = dict(self.stats), self.agree
        stats["ratings"], stats["scores"] = Counter(), {}
        for (dimension, score), count in self.scored.items():
            stats["ratings"][dimension] += count
            stats["scores"].setdefault(dimension, Counter())[score] += count
        stats["tie_rate"] = {d: c["tie"] / sum(c.values()) for d, c in stats["outcomes"].items()}
        stats["agreement"] = {
            "measure": "pairwise exact agreement and mean absolute difference between two "
            "annotators' scores of the same target and dimension",
            "pairs": agree["pairs"],
            "exact": agree["exact"] / agree["pairs"] if agree["pairs"] else None,
            "mean_abs_diff": agree["abs_diff"] / agree["pairs"] if agree["pairs"] else None,
        }
        stats["lengths"] = self.lengths.summary()
        return stats


def render_stats(stats: dict[str, Any]) -> str:
    def counts(c: Counter[Any]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "0"

    lines = [
        f"trees          {stats['trees']}",
        f"paths          {stats['paths']}",
        "nodes          " + counts(stats["nodes"]),
        f"branch points  {stats['branch_points']}",
        f"images         {stats['images']}",
        "turns per path " + counts(stats["path_turns"]),
        "judgments      " + counts(stats["judgments"]),
    ]
    if stats["pair_yield"]:
        lines.append(
            "pair yield     "
            + counts(stats["pair_yield"])
            + " (judgments and ratings, both scopes)"
        )
    lines += [
        "ratings by dimension (count; scores):",
    ]
    lines += [
        f"  {d:<32} {n:>6}; {counts(stats['scores'][d])}"
        for d, n in sorted(stats["ratings"].items())
    ] or ["  none"]
    if stats["outcomes"]:
        lines.append("judgment outcomes by dimension (a, b, tie; tie rate):")
        lines += [
            f"  {d:<32} {c['a']}, {c['b']}, {c['tie']}; {stats['tie_rate'][d]:.1%}"
            for d, c in sorted(stats["outcomes"].items())
        ]
    a = stats["agreement"]
    if a["pairs"]:
        lines.append(
            f"annotator agreement: {a['exact']:.1%} exact, mean |difference| "
            f"{a['mean_abs_diff']:.2f} over {a['pairs']} score pairs "
            "(pairwise, same target and dimension)"
        )
    if "lengths" in stats:
        lines += render_lengths(stats["lengths"])
    return "\n".join(lines)


def plot_stats(stats: dict[str, Any], folder: str) -> list[str]:
    """One PNG histogram of scores per dimension; needs matplotlib."""
    from .._errors import require

    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    written = []
    for dim, scores in sorted(stats["scores"].items()):
        fig, ax = plt.subplots(figsize=(4, 3))
        keys = sorted(scores)
        ax.bar([str(k) for k in keys], [scores[k] for k in keys], color="#4c72b0")
        ax.set_title(dim, fontsize=9)
        ax.set_xlabel("score")
        ax.set_ylabel("ratings")
        fig.tight_layout()
        path = os.path.join(folder, safe_name(dim, ".png"))  # a name from data stays inside
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
