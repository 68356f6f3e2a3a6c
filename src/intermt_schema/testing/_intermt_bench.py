"""Hypothesis strategies for InterMT-Bench release files (the flat layout): the records
of one tree of rounds, which share uuids where they share turns.

>>> from hypothesis import find
>>> records, _ = find(intermt_bench(), lambda drawn: len(drawn[0]) > 1)
>>> sorted(records[0])
['annotation', 'conversations', 'id']
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ..schema._dimensions import INTERMT
from ._pieces import paths, words

__all__ = ["intermt_bench"]

_GLOBAL = [d.key for d in INTERMT.of_scope("global")]


def _images(draw: st.DrawFn, features: set[str], side: str) -> list[str]:
    """Image paths, then the empty slots the release writes (``[""]`` for none)."""
    images = draw(st.lists(paths, max_size=2, unique=True))
    if images:
        features.add(f"{side} images")
    blanks = draw(st.integers(0, 1))
    if blanks:
        features.add("blank image slot")
    return images + [""] * blanks


def _response(draw: st.DrawFn, images: list[str], features: set[str]) -> str:
    """The answer's text with one ``<Image, ...>`` placeholder per image, in order."""
    pieces = [draw(words | st.just("")) for _ in range(len(images) + 1)]
    text = pieces[0]
    for piece in pieces[1:]:
        text += f"<Image, {draw(words)}>" + piece
        features.add("placeholders")
    return text


@st.composite
def _round(draw: st.DrawFn, tag: str, number: int, features: set[str]) -> dict[str, Any]:
    response_images = _images(draw, features, "response")
    return {
        "prompt": draw(words),
        "prompt_images": _images(draw, features, "prompt"),
        "prompt_uuid": f"{tag}-q{number}",
        "response": _response(draw, [p for p in response_images if p], features),
        "response_images": response_images,
        "response_uuid": f"{tag}-a{number}",
    }


def _annotation(draw: st.DrawFn, features: set[str]) -> dict[str, Any]:
    annotation: dict[str, Any] = {}
    for dim in draw(st.lists(st.sampled_from(_GLOBAL), min_size=1, max_size=3, unique=True)):
        annotation[dim] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            annotation[f"reason_{dim}"] = draw(words)
            features.add("reason")
    return annotation


@st.composite
def intermt_bench(draw: st.DrawFn) -> tuple[list[dict[str, Any]], set[str]]:
    """The records of one tree: rounds that branch at an answer (a sibling reuses its
    question) or at a question, one record per leaf, records ending inside the tree
    (prefixes), and paths rated twice; every record carries an annotation."""
    features: set[str] = set()
    tag = f"t{draw(st.integers(0, 10**6))}"
    rounds: list[dict[str, Any]] = []
    parents: list[int | None] = []
    for number in range(draw(st.integers(1, 5))):
        parent = draw(st.sampled_from([None, *range(number)])) if number else None
        turn = draw(_round(tag, number, features))
        siblings = [k for k, p in enumerate(parents) if p == parent]
        if siblings and (parent is None or draw(st.booleans())):  # another answer
            shared = rounds[draw(st.sampled_from(siblings))]  # (one tree: one first question)
            turn.update((k, shared[k]) for k in ("prompt", "prompt_images", "prompt_uuid"))
            features.add("branch at an answer")
        elif siblings:
            features.add("branch at a question")
        rounds.append(turn)
        parents.append(parent)
    children = {p for p in parents if p is not None}
    ends = [k for k in range(len(rounds)) if k not in children]
    for k in range(len(rounds)):
        if k in children and draw(st.integers(0, 2)) == 0:
            ends.append(k)
            features.add("prefix record")
    if draw(st.integers(0, 3)) == 0:
        ends.append(draw(st.sampled_from(ends)))
        features.add("path rated twice")
    records: list[dict[str, Any]] = []
    for n, end in enumerate(ends):
        chain: list[int] = []
        at: int | None = end
        while at is not None:
            chain.append(at)
            at = parents[at]
        turns = [{"round": i + 1, **rounds[k]} for i, k in enumerate(reversed(chain))]
        records.append({"id": n + 1, "conversations": turns,
                        "annotation": _annotation(draw, features)})  # fmt: skip
    return records, features
