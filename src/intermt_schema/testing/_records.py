"""Hypothesis strategies for the records of other tools' formats: files that an import
followed by an export to the same format must give back equal, record by record.

Each :class:`FormatSample` is one file's records of one layout, the export options that
write that layout, and the features its records use (so a test can count them).

>>> from hypothesis import given
>>> @given(format_samples("alpaca"))
... def test_samples_name_their_format(sample):
...     assert sample.format == "alpaca" and sample.records
>>> test_samples_name_their_format()
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from hypothesis import strategies as st

from . import _layouts as layouts
from ._intermt_bench import intermt_bench

__all__ = ["RECORD_FORMATS", "FormatSample", "format_samples"]


@dataclass(frozen=True)
class FormatSample:
    """One file of ``format``: its ``records``, the export ``options`` that write them
    back, the ``features`` they use, and the format auto-detection finds for it
    (``detected``: another when two formats share a layout)."""

    format: str
    records: list[dict[str, Any]]
    options: dict[str, Any]
    features: frozenset[str]
    detected: str


@dataclass(frozen=True)
class _Layout:
    options: dict[str, Any]
    draw: Callable[[], st.SearchStrategy[layouts.Drawn]]
    detected: str | None = None
    repeats: bool = True
    """Whether a repeated record comes back (one record per path) or is counted as a
    duplicate (formats of whole trees)."""
    unique_by: Callable[[layouts.Drawn], Any] | None = None
    many: bool = False
    """Whether a draw gives several records (those of one tree) rather than one."""


def _first_question(records: Any) -> Any:
    """The uuid of the first question of an InterMT-Bench tree's records: its tree."""
    return records[0]["conversations"][0]["prompt_uuid"]


_TRL_TYPES = ("sft", "prompt-only", "prompt-completion", "preference", "preference-implicit")

_LAYOUTS: dict[str, list[_Layout]] = {
    "sharegpt": [
        _Layout({"style": style, **mode}, partial(layouts.sharegpt, style, bool(mode)))
        for style in ("role", "from")
        for mode in ({}, {"mode": "ranking"})
    ],
    "alpaca": [_Layout({}, lambda: layouts.alpaca(False)),
               _Layout({"mode": "ranking"}, lambda: layouts.alpaca(True))],
    "llava": [_Layout({}, lambda: layouts.llava(False)),
              _Layout({}, lambda: layouts.llava(True))],
    "openai": [_Layout({}, layouts.openai)],
    "trl": [
        *(_Layout({"mode": mode}, partial(layouts.trl, mode, vision),
                  detected="sharegpt" if mode == "sft" and not vision else None)
          for mode in _TRL_TYPES
          for vision in (False, True)),
        *(_Layout({"mode": mode, "style": "standard"}, partial(layouts.trl_standard, mode))
          for mode in ("prompt-completion", "preference", "stepwise")),
    ],
    "llamafactory-v1": [_Layout({}, lambda: layouts.llamafactory_v1(False)),
                        _Layout({"mode": "dpo"}, lambda: layouts.llamafactory_v1(True))],
    "align-anything": [_Layout({"mode": mode}, partial(layouts.align_anything, mode))
                       for mode in ("supervised", "preference", "text-preference")],
    "oasst": [_Layout({}, layouts.oasst, repeats=False,
                      unique_by=lambda drawn: drawn[0]["message_tree_id"])],
    "intermt-bench": [_Layout({}, intermt_bench, repeats=False, many=True,  # type: ignore[arg-type]
                              unique_by=lambda drawn: _first_question(drawn[0]))],
}  # fmt: skip
RECORD_FORMATS = tuple(_LAYOUTS)
"""The formats :func:`format_samples` draws files of."""


def format_samples(name: str, max_records: int = 4) -> st.SearchStrategy[FormatSample]:
    """Files of format ``name`` (one of :data:`RECORD_FORMATS`): up to ``max_records``
    records of one layout, sometimes with a record repeated where the format writes a
    repeated record again."""

    @st.composite
    def sample(draw: st.DrawFn) -> FormatSample:
        layout = draw(st.sampled_from(_LAYOUTS[name]))
        drawn = draw(st.lists(layout.draw(), min_size=1, max_size=max_records,
                              unique_by=layout.unique_by))  # fmt: skip
        records: list[dict[str, Any]] = []
        for record, _ in drawn:  # a layout of ``many`` draws a tree's records at once
            records += cast(list[dict[str, Any]], record) if layout.many else [record]
        features: set[str] = set().union(*(f for _, f in drawn))
        if layout.repeats and draw(st.booleans()):
            records.append(json.loads(json.dumps(draw(st.sampled_from(records)))))
            features.add("repeated record")
        # a layout two formats share is the other's, unless tool use tells them apart
        detected = layout.detected if layout.detected and "tool calls" not in features else name
        return FormatSample(name, records, dict(layout.options), frozenset(features), detected)

    return sample()
