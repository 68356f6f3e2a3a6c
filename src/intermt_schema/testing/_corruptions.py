"""Broken trees for validation tests: :data:`CORRUPTIONS` breaks a valid tree so that
one named rule fires, and :func:`deep_trees` builds chains as deep as asked.

>>> from intermt_schema import validate
>>> "tree.cycle" in validate(CORRUPTIONS["tree.cycle"](deep_trees(3))).codes()
True
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from msgspec import structs

from ..schema._structs import DialogueTree, ImagePart, ImageRef, Judgment, Message, Rating, TextPart

__all__ = ["CORRUPTIONS", "deep_trees"]


def deep_trees(depth: int) -> DialogueTree:
    """A single chain of ``depth`` nodes, alternating user and assistant.

    >>> len(deep_trees(5).nodes)
    5
    """
    nodes = [
        Message(
            id=f"n{i}",
            parent=None if i == 0 else f"n{i - 1}",
            role="user" if i % 2 == 0 else "assistant",
            content=[TextPart(f"turn {i}")],
        )
        for i in range(depth)
    ]
    return DialogueTree(id=f"deep-{depth}", nodes=nodes)


def _with(tree: DialogueTree, **changes: Any) -> DialogueTree:
    return structs.replace(copy.deepcopy(tree), **changes)


def _set_node(tree: DialogueTree, index: int, **changes: Any) -> DialogueTree:
    nodes = list(tree.nodes)
    nodes[index] = structs.replace(nodes[index], **changes)
    return _with(tree, nodes=nodes)


def _first(tree: DialogueTree, role: str) -> int | None:
    return next((i for i, n in enumerate(tree.nodes) if n.role == role), None)


def _rate(tree: DialogueTree, **rating: Any) -> DialogueTree | None:
    i = _first(tree, "assistant")
    if i is None:
        return None
    base = {"target": tree.nodes[i].id, "scope": "local", "dimension": "text_quality", "score": 1}
    return _with(tree, ratings=[*tree.ratings, Rating(**{**base, **rating})])


def _image(tree: DialogueTree, **ref: Any) -> DialogueTree:
    content = [*tree.nodes[0].content, ImagePart(image=ImageRef(**ref))]
    return _set_node(tree, 0, content=content)


def _non_siblings(tree: DialogueTree) -> DialogueTree | None:
    assistants = [n for n in tree.nodes if n.role == "assistant"]
    for a in assistants:
        for b in assistants:
            if a.parent != b.parent:
                judgment = Judgment(a=a.id, b=b.id, scope="local")
                return _with(tree, judgments=[*tree.judgments, judgment])
    return None


def _cycle(tree: DialogueTree) -> DialogueTree | None:
    if len(tree.nodes) < 2:
        return None
    last = tree.nodes[-1]
    # the root becomes a child of the last node: no root left, everything loops
    root = structs.replace(tree.nodes[0], parent=last.id)
    return _with(tree, nodes=[root, *tree.nodes[1:]], ratings=[], judgments=[])


CORRUPTIONS: dict[str, Callable[[DialogueTree], DialogueTree | None]] = {
    "tree.duplicate_id": lambda t: _with(t, nodes=[*t.nodes, t.nodes[-1]]),
    "tree.no_root": lambda t: _set_node(t, 0, parent="ghost"),
    "tree.multiple_roots": lambda t: _with(
        t, nodes=[*t.nodes, Message(id="extra-root", role="user", content=[TextPart("x")])]
    ),
    "tree.missing_parent": lambda t: _with(
        t,
        nodes=[
            *t.nodes,
            Message(id="orphan", parent="ghost", role="user", content=[TextPart("x")]),
        ],
    ),
    "tree.cycle": _cycle,
    "tree.role_order": lambda t: _set_node(t, 0, role="assistant"),
    "rating.missing_target": lambda t: _rate(t, target="ghost"),
    "rating.unknown_dimension": lambda t: _rate(t, dimension="charm"),
    "rating.wrong_scope": lambda t: _rate(t, dimension="helpfulness"),
    "rating.out_of_scale": lambda t: _rate(t, score=7),
    "judgment.self_pair": lambda t: _with(t, judgments=[Judgment(a="x", b="x", scope="local")]),
    "judgment.missing_target": lambda t: _with(
        t, judgments=[Judgment(a=t.nodes[0].id, b="ghost", scope="global")]
    ),
    "judgment.not_siblings": _non_siblings,
    "image.no_source": lambda t: _image(t),
    "image.absolute_path": lambda t: _image(t, path="/etc/passwd"),
    "image.escapes_root": lambda t: _image(t, path="images/../../secret.png"),
    "image.path_is_url": lambda t: _image(t, path="https://example.org/a.png"),
}


"""Rule code -> a function that breaks a valid tree so that exactly that rule fires
(among possibly others); returns None where the tree lacks what the rule needs."""
