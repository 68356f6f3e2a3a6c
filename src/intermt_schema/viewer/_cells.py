"""The parts of a tree page: heat-strip cells, node views, anchors and limits."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..schema._dimensions import DimensionSet
from ..schema._structs import Rating
from ..validation._report import Issue

__all__ = ["EXPANDED_LIMIT", "FOLD_CHARS", "Cell", "NodeView", "anchor"]

FOLD_CHARS = 600


"""Texts longer than this are folded behind a "show all" toggle."""


EXPANDED_LIMIT = 300


"""Trees with more messages than this open collapsed below their second level."""


@dataclass
class Cell:
    """One dimension of a heat strip: its mean score (None when not rated)."""

    key: str
    title: str
    short: str
    score: float | None = None
    ratings: list[Rating] = field(default_factory=list)
    special: str | None = None
    low: float = 0
    high: float = 3

    @property
    def label(self) -> str:
        if self.score is None:
            return self.special or "-"
        return f"{self.score:g}"

    @property
    def level(self) -> str:
        """A CSS class for the colour: s0..s3 (the score's place on its scale), na
        (special value) or none.

        >>> Cell("q", "Quality", "Q", score=0.7, low=0, high=1).level
        's2'
        """
        if self.score is None:
            return "na" if self.special else "none"
        place = (self.score - self.low) / ((self.high - self.low) or 1)
        return f"s{max(0, min(3, round(3 * place)))}"

    @property
    def hover(self) -> str:
        lines = [f"{self.title}: {self.label}"]
        for r in self.ratings:
            who = r.annotator or "annotator"
            lines.append(f"{who}: {r.score}" + (f" - {r.rationale}" if r.rationale else ""))
        return "\n".join(lines)


def _short(key: str) -> str:
    """An abbreviation for a strip cell.

    >>> _short("text_quality"), _short("__x"), _short("")
    ('TQ', 'X', '?')
    """
    return "".join(word[0] for word in key.split("_") if word).upper()[:6] or "?"


def _strip(ratings: list[Rating], scope: str, dimensions: DimensionSet) -> list[Cell] | None:
    """The heat strip of one target and scope; None when it has no rating."""
    mine = [r for r in ratings if r.scope == scope]
    if not mine:
        return None
    cells = []
    known = {d.key for d in dimensions}
    for dim in dimensions:
        if dim.scope != scope:
            continue
        cell = Cell(dim.key, dim.title, _short(dim.key), low=dim.low, high=dim.high)
        cell.ratings = [r for r in mine if r.dimension == dim.key]
        scale = [r.score for r in cell.ratings if dim.low <= r.score <= dim.high]
        if scale:
            cell.score = sum(scale) / len(scale)
        elif cell.ratings:
            first = cell.ratings[0].score
            cell.special = next((v for k, v in dim.special.items() if k == first), str(first))
        cells.append(cell)
    for r in mine:  # dimensions outside the set still show
        if r.dimension not in known:
            cells.append(Cell(r.dimension, r.dimension, _short(r.dimension), float(r.score), [r]))
            known.add(r.dimension)
    return cells


@dataclass
class NodeView:
    """What the template needs of one message."""

    id: str
    anchor: str
    role: str
    parts: list[dict[str, Any]]
    model: str | None
    local: list[Cell] | None
    path_strip: list[Cell] | None
    judgments: list[dict[str, Any]]
    issues: list[Issue]
    children: int
    expanded: bool = True


def anchor(node_id: str) -> str:
    """An HTML id for a node id (any characters allowed in the data).

    >>> anchor("a b/c")
    'n-a-b-c-539138'
    """
    digest = hashlib.sha256(node_id.encode()).hexdigest()[:6]
    return "n-" + re.sub(r"[^A-Za-z0-9_-]+", "-", node_id)[:40] + "-" + digest
