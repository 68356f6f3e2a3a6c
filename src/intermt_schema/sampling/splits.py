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

__all__ = [
    "GROUPS",
    "KEY_BYTES",
    "GroupBy",
    "assign_parts",
    "check_fractions",
    "check_group_by",
    "group_keys",
    "packed_keys",
    "split_trees",
]

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


def group_keys(tree: DialogueTree, group_by: Sequence[str]) -> list[str]:
    """What ties ``tree`` to others under ``group_by``: its id, its seed prompts'
    normalised text digests, its images' identities.

    >>> group_keys(DialogueTree(id="t"), ["tree", "prompt"])
    ['tree:t']
    """
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


KEY_BYTES = 8
"""A group key is held as this many bytes of its BLAKE2b digest: two keys collide with
odds of about n²/2^65 for n keys, and a collision only joins two groups (never splits
one), so a split stays leak-free."""


def packed_keys(tree: DialogueTree, group_by: Sequence[str]) -> bytes:
    """:func:`group_keys` as digests of :data:`KEY_BYTES` each, packed into one bytes:
    what a corpus's worth of trees is held as while splits are assigned (about a tenth
    of the keys' text).

    >>> len(packed_keys(DialogueTree(id="t"), ["tree", "prompt"])) == KEY_BYTES
    True
    """
    return b"".join(
        hashlib.blake2b(key.encode(), digest_size=KEY_BYTES).digest()
        for key in group_keys(tree, group_by)
    )


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
    check_group_by(group_by)
    keys = [(tree.id, packed_keys(tree, group_by)) for tree in trees]
    chosen = assign_parts(keys, fractions, seed=seed)
    parts: list[list[DialogueTree]] = [[] for _ in fractions]
    for tree, part in zip(trees, chosen, strict=True):
        parts[part].append(tree)
    return parts


def assign_parts(
    keys: Sequence[tuple[str, bytes]], fractions: Sequence[float], *, seed: int = 0
) -> list[int]:
    """The part of each item, given ``(tree id, packed group keys)`` per item (see
    :func:`packed_keys`): items that share a key share a part, and parts hold about
    ``fractions`` of the items. :func:`split_trees` without the trees, so that a
    caller can stream them. The parts depend on the items, not on their order.

    >>> shared = b"p" * KEY_BYTES
    >>> assign_parts([("a", b"a" * 8 + shared), ("b", b"b" * 8 + shared),
    ...               ("c", b"c" * 8)], [0.5, 0.5])
    [1, 1, 0]
    """
    check_fractions(fractions)
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[bytes, int] = {}
    for i, (_, packed) in enumerate(keys):
        for at in range(0, len(packed), KEY_BYTES):
            j = first.setdefault(packed[at : at + KEY_BYTES], i)
            parent[find(i)] = find(j)
    del first
    components: dict[int, list[int]] = {}
    for i in range(len(keys)):
        components.setdefault(find(i), []).append(i)
    # a component's place comes from its smallest tree id: the parts do not depend on
    # the order of the items (a file's order, or the blocks of a cluster)
    smallest = [min(keys[i][0] for i in c) for c in components.values()]
    places = [(_rng(seed, tree_id).random(), tree_id) for tree_id in smallest]
    ranked = sorted(zip(places, components.values(), strict=True), key=lambda p: p[0])
    order = [c for _, c in ranked]
    total = sum(fractions)
    targets = [f / total * len(keys) for f in fractions]
    sizes = [0] * len(fractions)
    chosen = [0] * len(keys)
    for component in order:
        # fill the part furthest below its target
        k = max(range(len(sizes)), key=lambda p: (targets[p] - sizes[p], -p))
        sizes[k] += len(component)
        for i in component:
            chosen[i] = k
    return chosen
