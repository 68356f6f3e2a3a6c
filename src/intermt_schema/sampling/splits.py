"""Leak-free splits: parts that share no tree, and optionally no seed prompt or image.

>>> import intermt_schema as im
>>> trees = [im.DialogueTree(id=str(i)) for i in range(10)]
>>> [len(p) for p in split_trees(trees, [0.8, 0.2])]
[8, 2]
"""

from __future__ import annotations

import hashlib
import itertools
import struct
import tempfile
from array import array
from collections.abc import Sequence
from typing import IO, Literal

from .._errors import OptionError, check_choice
from ..schema._structs import DialogueTree
from ..tree._view import TreeView
from .pairs import _rng

__all__ = [
    "GROUPS",
    "KEY_BYTES",
    "GroupBy",
    "SplitPlanner",
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
    planner = SplitPlanner(fractions, seed=seed)
    for tree in trees:
        planner.add(tree.id, packed_keys(tree, group_by))
    parts: list[list[DialogueTree]] = [[] for _ in fractions]
    for tree, part in zip(trees, planner.parts(), strict=True):
        parts[part].append(tree)
    return parts


BUCKETS = 64
"""The group keys are grouped in this many buckets, one at a time (by a digest byte)."""

SPILL_BYTES = 1 << 22
"""Keys held in memory before the buckets go to a scratch file."""

_ENTRY = struct.Struct("<8sq")  # a key's digest and its item's index


class SplitPlanner:
    """The part of each item of a stream, given ``(tree id, packed group keys)`` per
    item (see :func:`packed_keys`): items that share a key share a part, and parts hold
    about ``fractions`` of the items. :func:`split_trees` without the trees, so that a
    caller can stream them. The parts depend on the items, not on their order.

    A corpus's worth of items costs about 40 bytes each and its id in memory: the keys
    go to ``BUCKETS`` buckets, spilled to an unnamed scratch file in ``directory``
    (the system's by default) past ``SPILL_BYTES``, and each bucket is grouped alone.

    >>> planner, shared = SplitPlanner([0.5, 0.5]), b"p" * KEY_BYTES
    >>> for tree_id, keys in [("a", b"a" * 8 + shared), ("b", b"b" * 8 + shared),
    ...                       ("c", b"c" * 8)]:
    ...     planner.add(tree_id, keys)
    >>> list(planner.parts())
    [1, 1, 0]
    """

    def __init__(
        self, fractions: Sequence[float], *, seed: int = 0, directory: str | None = None
    ) -> None:
        check_fractions(fractions)
        self.fractions = list(fractions)
        self.seed = seed
        self._directory = directory
        self._ids = bytearray()
        self._ends = array("q")
        self._buffers = [bytearray() for _ in range(BUCKETS)]
        self._buffered = 0
        self._spill: IO[bytes] | None = None
        self._chunks: list[list[tuple[int, int]]] = [[] for _ in range(BUCKETS)]
        self._parts: array[int] | None = None

    def __len__(self) -> int:
        return len(self._ends)

    def add(self, tree_id: str, packed: bytes) -> None:
        """Note the next item: its tree id and its keys, :data:`KEY_BYTES` each."""
        if self._parts is not None:
            raise RuntimeError("the parts were assigned: a planner takes no more items")
        index = len(self._ends).to_bytes(8, "little")
        self._ids += tree_id.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._ids))
        for at in range(0, len(packed), KEY_BYTES):
            key = packed[at : at + KEY_BYTES]
            self._buffers[key[0] % BUCKETS] += key + index
        self._buffered += 2 * len(packed)
        if self._buffered > SPILL_BYTES:
            self._flush()

    def tree_id(self, index: int) -> str:
        """The tree id of the item at ``index``."""
        return self._id_bytes(index).decode("utf-8", "surrogatepass")

    def _flush(self) -> None:
        if self._spill is None:
            # unnamed, so gone when closed: by parts(), or with the planner
            self._spill = tempfile.TemporaryFile(dir=self._directory)  # noqa: SIM115
        for bucket, buffer in enumerate(self._buffers):
            if buffer:
                self._chunks[bucket].append((self._spill.tell(), len(buffer)))
                self._spill.write(buffer)
                buffer.clear()
        self._buffered = 0

    def _bucket(self, bucket: int) -> bytes:
        data = bytearray()
        if self._spill is not None:
            for offset, size in self._chunks[bucket]:
                self._spill.seek(offset)
                data += self._spill.read(size)
        data += self._buffers[bucket]
        return bytes(data)

    def parts(self) -> array[int]:
        """Each item's part, in the order the items were added (computed once: the keys
        are let go)."""
        if self._parts is None:
            self._parts = self._assign()
            self._buffers = []
        return self._parts

    def _assign(self) -> array[int]:
        count = len(self)
        parent = array("q", range(count))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for bucket in range(BUCKETS):
            first: dict[bytes, int] = {}
            for key, i in _ENTRY.iter_unpack(self._bucket(bucket)):
                j = first.setdefault(key, i)
                if j != i:
                    parent[find(i)] = find(j)
        if self._spill is not None:
            self._spill.close()
        sizes = array("q", bytes(8 * count))
        smallest = array("q", [-1]) * count  # the item with a component's smallest id
        for i in range(count):
            root = parent[i] = find(i)
            sizes[root] += 1
            best = smallest[root]
            if best < 0 or self._id_bytes(i) < self._id_bytes(best):
                smallest[root] = i
        self._fill(parent, sizes, smallest)
        return array("I", (smallest[parent[i]] for i in range(count)))

    def _id_bytes(self, index: int) -> bytes:
        return bytes(self._ids[self._ends[index - 1] if index else 0 : self._ends[index]])

    def _fill(self, parent: array[int], sizes: array[int], smallest: array[int]) -> None:
        """Put each component's part in ``smallest[root]``: in an order drawn from its
        smallest tree id (so not from the items' order), each component goes to the part
        furthest below its target."""
        count = len(self)
        # a component's place, 53 random bits, and its root, packed in one int
        ranked = sorted(
            int(_rng(self.seed, self.tree_id(smallest[root])).random() * 2**53) * count + root
            for root in range(count)
            if parent[root] == root
        )
        total = sum(self.fractions)
        targets = [f / total * count for f in self.fractions]
        filled = [0] * len(self.fractions)
        for _, tied in itertools.groupby(ranked, key=lambda packed: packed // count):
            roots = [packed % count for packed in tied]
            if len(roots) > 1:  # the same place: the smaller id first
                roots.sort(key=lambda root: self._id_bytes(smallest[root]))
            for root in roots:
                k = max(range(len(filled)), key=lambda p: (targets[p] - filled[p], -p))
                filled[k] += sizes[root]
                smallest[root] = k
