"""What the format strategies share: texts without placeholders, paths, names, tool
calls, JSON text in the spellings writers use, extra keys.

>>> from hypothesis import find
>>> find(paths, lambda p: p.endswith(".jpg"))
'a/0.jpg'
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ._trees import json_values

__all__ = ["SPELLINGS", "TOKENS", "Drawn", "argument_objects", "call", "draw_files", "extra_keys",
           "json_text", "media", "names", "paths", "texts", "two_answers", "two_words",
           "words"]  # fmt: skip

TOKENS = ("<image>", "<video>", "<audio>", "<image_placeholder>")
texts = st.text(st.characters(codec="utf-8"), max_size=16).filter(
    lambda t: not any(token in t for token in TOKENS)
)
paths = st.from_regex(r"[a-z]{1,4}/[a-z0-9_]{1,6}\.(png|jpg)", fullmatch=True)
media = st.from_regex(r"media/[a-z0-9_]{1,6}\.(mp4|wav)", fullmatch=True)
words = texts.filter(bool)
"""Text parts hold text: an empty one is not written back."""
two_answers = st.lists(texts, min_size=2, max_size=2, unique=True)
two_words = st.lists(words, min_size=2, max_size=2, unique=True)
"""A pair's answers differ: a record whose answers are the same is refused."""
names = st.from_regex(r"[a-z_]{1,8}", fullmatch=True)
argument_objects = st.dictionaries(names, json_values, max_size=2)
SPELLINGS: list[dict[str, Any]] = [{"ensure_ascii": False}, {}, {"separators": (",", ":")},
                                     {"sort_keys": True, "ensure_ascii": False}]  # fmt: skip
"""How writers spell JSON text: the library's own spelling first."""

Drawn = tuple[dict[str, Any], set[str]]
"""A record and the features it uses."""


def json_text(draw: st.DrawFn, value: Any, features: set[str]) -> str:
    """``value`` as JSON text, in one of the spellings writers use."""
    spelling = draw(st.sampled_from(SPELLINGS))
    features.add("json spelled otherwise" if spelling != SPELLINGS[0] else "json as written")
    return json.dumps(value, **spelling)


def extra_keys(draw: st.DrawFn, taken: set[str], features: set[str]) -> dict[str, Any]:
    keys = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(lambda k: k not in taken)
    extra = draw(st.dictionaries(keys, json_values, max_size=2))
    if extra:
        features.add("extra keys")
    return extra


def draw_files(draw: st.DrawFn, strategy: st.SearchStrategy[str], features: set[str],
           feature: str) -> list[str]:  # fmt: skip
    files = draw(st.lists(strategy, max_size=2))
    if files:
        features.add(feature)
    return files


def call(draw: st.DrawFn) -> dict[str, Any]:  # one tool call
    return {"name": draw(names), "arguments": draw(argument_objects)}
