"""JSON pointers (RFC 6901) for issues, from msgspec's and pydantic's error paths.

>>> pointer_from_msgspec("Expected `str`, got `int` - at `$.nodes[3].id`")
('Expected `str`, got `int`', '/nodes/3/id')
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["json_pointer", "pointer_from_loc", "pointer_from_msgspec"]

_MSGSPEC_PATH = re.compile(r"\[(\d+)\]|\.([^.\[]+)|\[\.\.\.\]")


def json_pointer(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """A JSON pointer (RFC 6901) from a list of keys and indexes.

    >>> json_pointer(["nodes", 3, "content", "a/b"])
    '/nodes/3/content/a~1b'
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_from_msgspec(message: str) -> tuple[str, str]:
    """Split a msgspec error message into (text, JSON pointer).

    >>> pointer_from_msgspec("Expected `int`, got `str` - at `$.ratings[3].score`")
    ('Expected `int`, got `str`', '/ratings/3/score')
    """
    text, sep, where = message.rpartition(" - at `")
    if not sep or not where.startswith("$"):
        return message, ""
    parts: list[str | int] = []
    for index, key in _MSGSPEC_PATH.findall(where[1:].rstrip("`")):
        parts.append(int(index) if index else key)
    return text, json_pointer(parts)


_MISSING = object()


def _step(node: Any, step: str | int) -> Any:
    """``node[step]`` where it exists, else ``_MISSING``."""
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    if isinstance(node, dict) and step in node:
        return node[step]
    return _MISSING


def pointer_from_loc(document: Any, loc: tuple[str | int, ...]) -> str:
    """A JSON pointer from a pydantic error location, following the document itself.

    pydantic puts union tags into locations (``content, 0, image, image``) and the
    members of a union of scalars after the value (``score, constrained-int``); only
    the steps that exist in the document are kept.

    >>> doc = {"content": [{"type": "image", "image": {}}], "score": "3"}
    >>> pointer_from_loc(doc, ("content", 0, "image", "image", "x"))
    '/content/0/image/x'
    >>> pointer_from_loc(doc, ("score", "constrained-int"))
    '/score'
    """
    parts: list[str | int] = []
    node = document
    after_index = False
    for step in loc:
        if after_index and isinstance(node, dict) and node.get("type") == step:
            after_index = False
            continue  # the union tag pydantic inserts after a part's index
        if parts and node is not _MISSING and not isinstance(node, (dict, list)):
            break  # a value, not a container: the rest names union members
        after_index = isinstance(step, int)
        node = _step(node, step)
        parts.append(step)
    return json_pointer(parts)
