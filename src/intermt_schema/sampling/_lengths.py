"""How long the training records of a dataset are: characters, approximate tokens and
images per record, for supervised records (one per path) and preference records (one
per sibling pair), so that a trainer's cutoff can be chosen before it crashes.

>>> import intermt_schema as im
>>> lengths = RecordLengths()
>>> lengths.add(im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("Hello there")]),
...     im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("Hi")])]))
>>> lengths.summary()["sft"]["chars"]
{'records': 1, 'median': 13, 'p95': 13, 'max': 13}
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..formats._linear import LinearOptions, Turn, pair_turns, sft_turns
from ..formats._registry import LossReport
from ..schema._structs import DialogueTree

__all__ = ["BYTES_PER_TOKEN", "RecordLengths", "render_lengths"]

BYTES_PER_TOKEN = 4
"""Tokens are estimated as UTF-8 bytes / 4: near the mark for English with BPE
tokenizers, low for other scripts; a model's own tokenizer decides, and each image adds
that model's tokens per image."""

MODES = {"sft": "supervised (one record per path)", "pair": "preference (prompt + longer answer)"}
MEASURES = ("chars", "tokens", "images")


class RecordLengths:
    """Collects the lengths of the records each export mode makes of each tree
    (placeholders included, as a trainer reads them), as a histogram per measure: how
    many records have each length. Memory grows with the lengths' range, never with the
    count of records, and the percentiles stay exact."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, Counter[int]]] = {
            mode: {m: Counter() for m in MEASURES} for mode in MODES
        }

    def add(self, tree: DialogueTree) -> None:
        loss = LossReport(format="lengths")  # what the records leave out is not counted here
        for _, _, turns in sft_turns([tree], LinearOptions(), loss):
            self._record("sft", turns)
        for turns, chosen, rejected, *_ in pair_turns([tree], LinearOptions(), "overall", loss):
            longer = max(chosen, rejected, key=lambda turn: len(turn.text))
            self._record("pair", [*turns, longer])

    def _record(self, mode: str, turns: Sequence[Turn]) -> None:
        values = self._values[mode]
        values["chars"][sum(len(t.text) for t in turns)] += 1
        size = sum(len(t.text) if t.text.isascii() else len(t.text.encode()) for t in turns)
        values["tokens"][math.ceil(size / BYTES_PER_TOKEN)] += 1
        values["images"][sum(len(t.images) for t in turns)] += 1

    def merge(self, other: RecordLengths) -> None:
        """Add the records ``other`` collected."""
        for mode, measures in other._values.items():
            for measure, values in measures.items():
                self._values[mode][measure].update(values)

    def summary(self) -> dict[str, dict[str, dict[str, int]]]:
        """For each mode and measure: the records, and the median, 95th percentile and
        maximum (nearest rank)."""
        out: dict[str, dict[str, dict[str, int]]] = {}
        for mode, measures in self._values.items():
            out[mode] = {}
            for measure, counts in measures.items():
                records = sum(counts.values())
                out[mode][measure] = {
                    "records": records,
                    "median": _rank(counts, records, 0.5),
                    "p95": _rank(counts, records, 0.95),
                    "max": max(counts, default=0),
                }
        return out


def _rank(counts: Counter[int], records: int, fraction: float) -> int:
    """The nearest-rank percentile of the ``records`` values ``counts`` holds."""
    rank, seen = max(1, math.ceil(fraction * records)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return 0


def render_lengths(summary: dict[str, Any]) -> list[str]:
    """The table ``intermt stats`` prints."""
    lines = [
        "record lengths (median / p95 / max; tokens ~ UTF-8 bytes / 4, plus the model's "
        "tokens per image):"
    ]
    for mode, title in MODES.items():
        measures = summary[mode]
        cells = "  ".join(
            f"{m} {measures[m]['median']} / {measures[m]['p95']} / {measures[m]['max']}"
            for m in MEASURES
        )
        lines.append(f"  {title}: {measures['chars']['records']} records; {cells}")
    return lines
