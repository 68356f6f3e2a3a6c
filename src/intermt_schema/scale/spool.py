"""What publishing keeps of each tree between its two passes: the tree with its images
embedded, as MessagePack (which holds bytes as they are, where JSON would hold them in
base64), with what ties it to other trees (its split keys) and the files it holds
without bytes. One process, worker processes and Ray workers make it alike; worker
processes send it to the parent packed into bytes.

>>> import intermt_schema as im
>>> from intermt_schema.validation._images import MediaEmbedder
>>> record = spool_record(im.DialogueTree(id="t"), MediaEmbedder(None), ["tree"])
>>> list(unpack([pack(record)])) == [record], spooled_tree(record.tree).id
(True, 't')
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import msgspec

from ..sampling.splits import packed_keys
from ..schema._structs import DialogueTree
from ..validation._images import MediaEmbedder

__all__ = ["Spooled", "pack", "spool_record", "spooled_tree", "unpack"]


class Spooled(NamedTuple):
    """One tree as the first pass leaves it."""

    id: str
    keys: bytes
    """Its split keys (see ``packed_keys``)."""
    tree: bytes
    """MessagePack, images embedded (see :func:`spooled_tree`)."""
    unembedded: int
    """Images left without bytes."""
    unembedded_media: int
    """Videos and audio clips left without bytes."""


def spool_record(tree: DialogueTree, embed: MediaEmbedder, group_by: Sequence[str]) -> Spooled:
    """``tree`` with its files embedded by ``embed``, and its keys under ``group_by``."""
    before = embed.unembedded, embed.unembedded_media
    tree = embed(tree)
    return Spooled(
        tree.id, packed_keys(tree, group_by), _encode(tree),
        embed.unembedded - before[0], embed.unembedded_media - before[1],
    )  # fmt: skip


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(DialogueTree).decode


def spooled_tree(data: bytes) -> DialogueTree:
    """The tree a :class:`Spooled` record holds."""
    return _decode(data)


_HEAD = struct.Struct("<QQQQQ")
"""The lengths of the id (UTF-8), the keys and the tree, then the two counts."""


def pack(record: Spooled) -> bytes:
    """``record`` as bytes that :func:`unpack` reads back, several packed end to end."""
    name = record.id.encode("utf-8", "surrogatepass")
    head = _HEAD.pack(len(name), len(record.keys), len(record.tree), *record[3:])
    return b"".join((head, name, record.keys, record.tree))


def unpack(blocks: Iterable[bytes]) -> Iterator[Spooled]:
    """The records packed end to end in each block."""
    for block in blocks:
        at = 0
        while at < len(block):
            names, keys, tree, images, media = _HEAD.unpack_from(block, at)
            at += _HEAD.size
            ends = (at + names, at + names + keys, at + names + keys + tree)
            yield Spooled(
                block[at : ends[0]].decode("utf-8", "surrogatepass"), block[ends[0] : ends[1]],
                block[ends[1] : ends[2]], images, media,
            )  # fmt: skip
            at = ends[2]
