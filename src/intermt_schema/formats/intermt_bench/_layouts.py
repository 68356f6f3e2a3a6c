"""The four InterMT release layouts and how a record tells which it is.

>>> detect_layout({"conversation": [{"round": 1}]}) is None
True
"""

from __future__ import annotations

import re
from typing import Any, Literal

from ...schema._structs import (
    Outcome,
)

__all__ = ["LAYOUTS", "PLACEHOLDER", "VARIANTS_META", "Layout", "detect_layout"]

Layout = Literal["flat", "score", "pair", "upstream"]
LAYOUTS: tuple[Layout, ...] = ("flat", "score", "pair", "upstream")


VARIANTS_META = "intermt_image_variants"
BLANKS_META = "intermt_blank_images"
"""How many empty strings a user turn's ``prompt_images`` held (the release writes
``[""]`` for a turn without an image); written back after the turn's images."""


"""Message meta key: record id -> the image paths that record gave the same message."""


PLACEHOLDER = re.compile(r"<Image,[^<>]*>")


_OUTCOME: dict[int, Outcome] = {1: "a", 2: "b", 0: "tie"}


_CODE = {v: k for k, v in _OUTCOME.items()}


def detect_layout(record: Any) -> str | None:
    """The layout of one record, or None when it is none of them.

    >>> detect_layout({"front_convs": [], "paired_convs": {}})
    'pair'
    """
    if not isinstance(record, dict):
        return None
    if "paired_convs" in record:
        return "pair"
    if "meta_data" in record:
        return "upstream"
    convs = record.get("conversations")
    if isinstance(convs, list) and convs and isinstance(convs[0], dict):
        if any(isinstance(c, dict) and "round_conversations" in c for c in convs):
            return "score"
        if any(k in convs[0] for k in ("prompt", "response", "round")):
            return "flat"
    return None
