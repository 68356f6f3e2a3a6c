"""Pair sampling options: strategies, criteria and aggregates, their checks, and
how a criterion ranks scores.

>>> check_pair_options({"ties": "some"})
Traceback (most recent call last):
...
intermt_schema.OptionError: unknown ties 'some'; choose from drop, keep
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from .._errors import OptionError, check_choice
from ..schema._dimensions import known_dimensions

__all__ = [
    "AGGREGATES",
    "MISSING",
    "STRATEGIES",
    "Aggregate",
    "Criterion",
    "PairOptions",
    "PairReport",
    "Strategy",
    "check_criterion",
    "check_pair_options",
]

Strategy = Literal["all", "best_worst", "best_rest", "best_random"]


Aggregate = Literal["mean", "median", "majority"]


Criterion = str | dict[str, float] | list[str]


"""A dimension key; ``{key: weight}`` for a weighted mean; a list for lexicographic
order; or ``"pareto"`` (with ``dimensions``) for Pareto dominance. ``"overall"``
selects a judgment's overall outcome."""


def _criterion_name(criterion: Criterion) -> str:
    if isinstance(criterion, dict):
        return "weighted(" + ",".join(f"{k}={v:g}" for k, v in criterion.items()) + ")"
    if isinstance(criterion, list):
        return "lexicographic(" + ",".join(criterion) + ")"
    return criterion


def _dimensions(criterion: Criterion, pareto_dims: Sequence[str]) -> list[str]:
    if isinstance(criterion, dict):
        return list(criterion)
    if isinstance(criterion, list):
        return list(criterion)
    return list(pareto_dims) if criterion == "pareto" else [criterion]


def _aggregate(values: list[int | float], how: Aggregate) -> float:
    if how == "median":
        return float(statistics.median(values))
    if how == "majority":
        counts = Counter(values).most_common()
        top = [v for v, c in counts if c == counts[0][1]]
        return float(statistics.median(top))
    return sum(values) / len(values)


def _key(criterion: Criterion, scores: dict[str, float]) -> tuple[float, ...]:
    if isinstance(criterion, dict):
        total = sum(criterion.values())
        return (sum(w * scores[d] for d, w in criterion.items()) / total,)
    if isinstance(criterion, list):
        return tuple(scores[d] for d in criterion)
    if criterion == "pareto":
        return tuple(scores[d] for d in sorted(scores))
    return (scores[criterion],)


def _compare(criterion: Criterion, a: tuple[float, ...], b: tuple[float, ...]) -> float | None:
    """Positive when ``a`` wins, negative when ``b`` wins, 0 for a tie; None when the
    two are incomparable (Pareto). For Pareto the size is the smallest gain."""
    if criterion == "pareto":
        diffs = [x - y for x, y in zip(a, b, strict=True)]
        if all(d >= 0 for d in diffs) and any(d > 0 for d in diffs):
            return min(d for d in diffs if d > 0)
        if all(d <= 0 for d in diffs) and any(d < 0 for d in diffs):
            return -min(-d for d in diffs if d < 0)
        return 0.0 if all(d == 0 for d in diffs) else None
    for x, y in zip(a, b, strict=True):
        if x != y:
            return x - y
    return 0.0


STRATEGIES: tuple[Strategy, ...] = ("all", "best_worst", "best_rest", "best_random")
AGGREGATES: tuple[Aggregate, ...] = ("mean", "median", "majority")


class PairOptions(TypedDict, total=False):
    """The options of :func:`iter_pairs` and :func:`sample_pairs`."""

    scope: Literal["local", "global", "both"]
    source: Literal["judgments", "ratings", "both"]
    strategy: Strategy
    criterion: Criterion
    dimensions: Sequence[str]
    margin: float
    ties: Literal["drop", "keep"]
    aggregate: Aggregate
    cap_per_branch: int | None
    cap_per_tree: int | None
    seed: int


def check_criterion(criterion: Criterion, dimensions: Sequence[str] = ()) -> None:
    """Raise ``OptionError`` unless ``criterion`` names known dimensions (see
    :func:`iter_pairs`); ``pareto`` needs two or more ``dimensions``.

    >>> check_criterion("helpfulnes")
    Traceback (most recent call last):
    ...
    intermt_schema.OptionError: unknown dimension 'helpfulnes'; choose from overall, pareto, ...
    """
    known = known_dimensions()
    if isinstance(criterion, dict):
        names = list(criterion)
        if not names or sum(criterion.values()) <= 0 or any(w < 0 for w in criterion.values()):
            raise OptionError(f"weights must be non-negative with a positive sum: {criterion}")
    elif isinstance(criterion, list):
        names = criterion
        if not names:
            raise OptionError("a lexicographic criterion needs at least one dimension")
    elif criterion == "pareto":
        names = list(dimensions)
        if len(names) < 2:
            raise OptionError("pareto compares two or more dimensions: pass dimensions=[...]")
    else:
        try:
            check_choice("dimension", criterion, ["overall", "pareto", *known])
        except OptionError as exc:
            raise OptionError(str(exc).replace(", " + ", ".join(known), ", ...")) from None
        names = []
    for name in names:
        check_choice("dimension", name, known)
    if dimensions and criterion != "pareto":
        raise OptionError("dimensions are compared by the pareto criterion only")


def check_pair_options(options: PairOptions) -> None:
    """Raise ``OptionError`` for an option :func:`iter_pairs` does not take or a value
    it does not accept, listing the valid ones."""
    unknown = set(options) - set(PairOptions.__annotations__)
    if unknown:
        raise OptionError(
            f"unknown pair options {sorted(unknown)}; options: "
            + ", ".join(PairOptions.__annotations__)
        )
    check_choice("scope", options.get("scope", "both"), ("local", "global", "both"))
    check_choice("source", options.get("source", "both"), ("judgments", "ratings", "both"))
    check_choice("strategy", options.get("strategy", "best_worst"), STRATEGIES)
    check_choice("ties", options.get("ties", "drop"), ("drop", "keep"))
    check_choice("aggregate", options.get("aggregate", "mean"), AGGREGATES)
    check_criterion(options.get("criterion", "overall"), options.get("dimensions", ()))
    for name, cap in (("cap_per_branch", options.get("cap_per_branch")),
                      ("cap_per_tree", options.get("cap_per_tree"))):  # fmt: skip
        if cap is not None and cap < 1:
            raise OptionError(f"{name} must be at least 1, not {cap}")
    if options.get("margin", 0.0) < 0:
        raise OptionError(f"margin must not be negative, not {options.get('margin')}")


MISSING = "missing a criterion dimension"
"""How the pair report names ratings that lack a dimension of the criterion."""


@dataclass
class PairReport:
    """Pairs made per strategy and source, and what could not be paired, by reason."""

    produced: Counter[str] = field(default_factory=Counter)
    unpaired_ratings: Counter[str] = field(default_factory=Counter)
    unpaired_judgments: Counter[str] = field(default_factory=Counter)
    ratings_used: int = 0
    judgments_used: int = 0

    def merge(self, other: PairReport) -> None:
        """Add the counts of ``other`` (a report made apart, on another worker)."""
        self.produced.update(other.produced)
        self.unpaired_ratings.update(other.unpaired_ratings)
        self.unpaired_judgments.update(other.unpaired_judgments)
        self.ratings_used += other.ratings_used
        self.judgments_used += other.judgments_used

    def render(self) -> str:
        lines = [
            "pairs: " + (", ".join(f"{k} {v}" for k, v in sorted(self.produced.items())) or "none")
        ]
        lines.append(
            f"ratings used {self.ratings_used}; not paired: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.unpaired_ratings.items())) or "none")
        )
        lines.append(
            f"judgments used {self.judgments_used}; not paired: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.unpaired_judgments.items())) or "none")
        )
        if not self.produced and any(k.startswith(MISSING) for k in self.unpaired_ratings):
            lines.append(
                "hint: the ratings lack dimensions the criterion needs; name a rated "
                "dimension with --criterion (a dimension, DIM=W,... or lex:DIM,...)"
            )
        return "\n".join(lines)
