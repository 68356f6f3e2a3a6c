"""Leak-free splits: parts that share no tree, and optionally no seed prompt or image.

>>> import intermt_schema as im
>>> trees = [im.DialogueTree(id=str(i)) for i in range(10)]
>>> [len(p) for p in split_trees(trees, [0.8, 0.2])]
[8, 2]
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from .._errors import OptionError, check_choice
from ..schema._structs import DialogueTree
from ..tree._view import TreeView
from .pairs import _rng

__all__ = ["GROUPS", "GroupBy", "check_fractions", "check_group_by", "split_trees"]

GroupBy = Literal["tree", "prompt", "image"]
GROUPS: tuple[GroupBy, ...] = ("tree", "prompt", "image")
"""What may not straddle two parts: a tree, a seed prompt, an image."""


def check_group_by(group_by: Sequence[str]) -> None:
    """Raise ``OptionError`` for a group that is not one of :data:`GROUPS`."""
    if isinstance(group_by, str):
        raise OptionError(f"group_by must be a sequence of names, not the string {group_by!r}")
    for key in group_by:
        check_choice("group_by", key, GROUPS)


def check_fractions(fractions: Sequence[float]) -> None:
    """Raise ``OptionError`` unless the fractions are non-negative and not all zero.

    >>> check_fractions([0.9, -0.1])
    Traceback (most recent call last):
    ...
    intermt_schema.OptionError: fractions must be non-negative and not all zero, not [0.9, -0.1]
    """
    if not fractions or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise OptionError(f"fractions must be non-negative and not all zero, not {list(fractions)}")


def _group_keys(tree: DialogueTree, group_by: Sequence[str]) -> list[str]:
    from ..schema._structs import ImagePart, TextPart

    keys = [f"tree:{tree.id}"]
    view = TreeView(tree)
    if "prompt" in group_by:
        for root in view.roots:
            text = "".join(p.text for p in root.content if type(p) is TextPart)
            keys.append(
                "prompt:" + hashlib.sha256(" ".join(text.split()).lower().encode()).hexdigest()
            )
    if "image" in group_by:
        for node in tree.nodes:
            for p in node.content:
                if type(p) is ImagePart:
                    keys.append(f"image:{p.image.identity()}")
    return keys


def split_trees(
    trees: Sequence[DialogueTree],
    fractions: Sequence[float],
    *,
    group_by: Sequence[str] = ("tree",),
    seed: int = 0,
) -> list[list[DialogueTree]]:
    """Split into parts of about ``fractions`` of the trees, so that no group (a tree,
    and optionally a seed prompt or an image shared by several trees) straddles two
    parts. Deterministic for a seed. An unknown ``group_by`` key or bad fractions
    raise ``OptionError``.
    """
    check_fractions(fractions)
    check_group_by(group_by)
    parent = list(range(len(trees)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, tree in enumerate(trees):
        for key in _group_keys(tree, group_by):
            j = first.setdefault(key, i)
            parent[find(i)] = find(j)
    components: dict[int, list[int]] = {}
    for i in range(len(trees)):
        components.setdefault(find(i), []).append(i)
    order = sorted(components.values(), key=lambda c: _rng(seed, trees[c[0]].id).random())
    total = sum(fractions)
    targets = [f / total * len(trees) for f in fractions]
    parts: list[list[int]] = [[] for _ in fractions]
    for component in order:
        # fill the part furthest below its target
        k = max(range(len(parts)), key=lambda p: (targets[p] - len(parts[p]), -p))
        parts[k].extend(component)
    return [[trees[i] for i in sorted(part)] for part in parts]
