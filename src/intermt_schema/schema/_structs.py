"""The canonical v1 schema: the one definition every other representation derives from.

msgspec ``Struct`` classes are the source of truth. The pydantic models, the JSON Schema
in ``spec/``, the Arrow schema and the Hugging Face ``Features`` are all derived from
these classes (see ``_derive.py``, ``_jsonschema.py`` and ``io/parquet.py``).

>>> tree = DialogueTree(
...     id="t1",
...     nodes=[
...         Message(id="q", role="user", content=[TextPart("Hi")]),
...         Message(id="a", parent="q", role="assistant", content=[TextPart("Hello")]),
...     ],
... )
>>> [n.id for n in tree.nodes]
['q', 'a']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
from msgspec import Meta, Struct, field

from ._parts import (
    MEDIA_PARTS,
    AudioPart,
    ImagePart,
    ImageRef,
    MediaRef,
    Part,
    Pixels,
    ReasoningPart,
    Sha256,
    TextPart,
    ToolCallPart,
    VideoPart,
    _Base,
    media_of,
)

__all__ = [
    "MEDIA_PARTS",
    "RESERVED_MESSAGE_META",
    "RESERVED_TREE_EXTRA",
    "ROLES",
    "SCHEMA_VERSION",
    "VERSIONS",
    "AudioPart",
    "DialogueTree",
    "Generator",
    "Id",
    "ImagePart",
    "ImageRef",
    "Judgment",
    "MediaRef",
    "Message",
    "Outcome",
    "Part",
    "Pixels",
    "Rating",
    "ReasoningPart",
    "Role",
    "Scope",
    "Score",
    "Sha256",
    "TextPart",
    "ToolCallPart",
    "TreeMeta",
    "VideoPart",
    "decode_tree",
    "encode_tree",
    "lowest_version",
    "media_of",
    "stamped",
]

SCHEMA_VERSION = "1.2"


"""The newest version this library reads and writes. A tree is written with the lowest
version that can express it (:func:`lowest_version`), so readers of 1.0 keep reading
every tree that needs nothing newer."""

VERSIONS = ("1.0", "1.1", "1.2")
"""Every version this library reads, oldest first."""


Id = Annotated[str, Meta(min_length=1, description="A non-empty identifier.")]


Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")
"""``tool`` (1.1) holds what a tool returned to the assistant message that called it."""


Scope: TypeAlias = Literal["local", "global"]


Outcome: TypeAlias = Literal["a", "b", "tie"]


RESERVED_MESSAGE_META: dict[str, Any] = {
    "intermt_placeholders": list[str],
    "intermt_image_variants": dict[str, list[str]],
    "intermt_record_keys": dict[str, dict[str, Any]],
    "intermt_blank_images": Annotated[int, Meta(ge=1, le=2**31 - 1)],
    "intermt_record_ends": list[dict[str, dict[str, Any]]],
    "llamafactory_loss_weight": float,
    "intermt_json_spelling": list[str | None],
    "intermt_message_keys": dict[str, dict[str, Any]],
}
"""Keys of ``Message.meta`` the library writes and reads back, with their types."""
RESERVED_TREE_EXTRA: dict[str, Any] = {"meta_data": dict[str, Any]}
"""Keys of ``TreeMeta.extra`` the library writes and reads back, with their types."""

Score = (
    Annotated[int, Meta(ge=-(2**31), le=2**31 - 1, description="A score on an integer scale.")]
    | Annotated[
        float, Meta(ge=-(2**31), le=2**31 - 1, description="(1.2) A score on a real scale.")
    ]
)
"""A score; its scale is the dimension's. A float (1.2) rates a dimension whose scale is
real, such as Open-Assistant's label means in 0..1, and is kept as written: ``1.0``
stays a float."""


class Generator(_Base, kw_only=True):
    """Who produced a message: a model, and the tool calls behind its images."""

    model: str | None = None
    tools: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class Message(_Base, kw_only=True):
    """One node of a dialogue tree.

    In 1.1, a ``tool`` message names the call it answers in ``tool_call_id``, and
    ``tools`` declares the functions (JSON objects, as the source gave them) available
    from this message on, until a descendant declares others.

    >>> Message(id="n1", role="user", content=[TextPart("Hi")]).parent is None
    True
    """

    id: Id
    parent: str | None = None
    role: Role
    content: list[Part] = field(default_factory=list)
    generator: Generator | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    tool_call_id: str | None = None
    tools: list[Any] | None = None


class Rating(_Base, kw_only=True):
    """One annotator's score on one dimension.

    ``scope="local"`` rates the assistant node ``target``; ``scope="global"`` rates the
    path from the root to ``target``.

    >>> Rating(target="a1", scope="local", dimension="text_quality", score=3).score
    3
    """

    target: Id
    scope: Scope
    dimension: str
    score: Score
    annotator: str | None = None
    rationale: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Judgment(_Base, kw_only=True):
    """A human comparison of two targets, with an outcome per dimension.

    Local judgments compare sibling assistant nodes; global ones compare two paths of
    the tree, each named by its last node.

    >>> Judgment(a="x", b="y", scope="local", outcomes={"text_quality": "a"}).outcomes
    {'text_quality': 'a'}
    """

    a: Id
    b: Id
    scope: Scope
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    overall: Outcome | None = None
    annotator: str | None = None
    rationale: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def outcome(self, criterion: str = "overall") -> Outcome | None:
        """The outcome for ``criterion``: one dimension's, or ``overall``, which falls
        back on the majority of the dimensions' outcomes (a tie when they balance).
        None when the judgment does not decide it.

        >>> Judgment(a="x", b="y", scope="local", outcomes={"t": "a", "u": "a", "v": "b"}).outcome()
        'a'
        """
        if criterion != "overall":
            return self.outcomes.get(criterion)
        if self.overall is not None or not self.outcomes:
            return self.overall
        votes = list(self.outcomes.values())
        for_a, for_b = votes.count("a"), votes.count("b")
        return "a" if for_a > for_b else "b" if for_b > for_a else "tie"


class TreeMeta(_Base, kw_only=True):
    """Where a tree came from. ``extra`` keeps source fields with no place of their own.

    ``dimension_sets`` (1.2) names the registered dimension sets the tree's ratings and
    judgments use; without it, they use the set validation is given (InterMT's nine).

    >>> TreeMeta(dimension_sets=["kto"]).dimension_sets
    ['kto']
    """

    source: str | None = None
    category: str | None = None
    task: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    dimension_sets: list[Id] | None = None


class DialogueTree(Struct, kw_only=True, gc=False):
    """One seed prompt and every conversation grown from it, as a flat node list.

    Every field is always written, so a stored tree states its ``schema_version``.

    >>> DialogueTree(id="t").schema_version
    '1.0'
    """

    id: Id
    schema_version: str = VERSIONS[0]
    meta: TreeMeta = field(default_factory=TreeMeta)
    nodes: list[Message] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    judgments: list[Judgment] = field(default_factory=list)

    def images(self) -> Iterator[ImageRef]:
        """Every image of the tree, node by node, in content order.

        >>> tree = DialogueTree(id="t", nodes=[Message(id="q", role="user",
        ...     content=[ImagePart(image=ImageRef(path="a.png")), TextPart("?")])])
        >>> [ref.path for ref in tree.images()]
        ['a.png']
        """
        for node in self.nodes:
            for part in node.content:
                if type(part) is ImagePart:
                    yield part.image

    def media(self) -> Iterator[tuple[Message, Part, ImageRef | MediaRef]]:
        """Every image, video and audio clip of the tree, with its message and part.

        >>> tree = DialogueTree(id="t", nodes=[Message(id="q", role="user",
        ...     content=[VideoPart(video=MediaRef(path="a.mp4")), TextPart("?")])])
        >>> [ref.path for _, _, ref in tree.media()]
        ['a.mp4']
        """
        for node in self.nodes:
            for part in node.content:
                found = media_of(part)
                if found is not None:
                    yield node, part, found[1]


def lowest_version(tree: DialogueTree) -> str:
    """The lowest schema version that can express ``tree``: ``"1.2"`` when it declares
    dimension sets or holds a real score; ``"1.1"`` when it holds a ``tool`` message,
    declared tools, or a part 1.0 does not know; else ``"1.0"``.

    >>> lowest_version(DialogueTree(id="t", nodes=[Message(id="q", role="user",
    ...     content=[ReasoningPart("hm")])]))
    '1.1'
    """
    if tree.meta.dimension_sets is not None or float in {type(r.score) for r in tree.ratings}:
        return "1.2"
    for node in tree.nodes:
        if node.role == "tool" or node.tools is not None or node.tool_call_id is not None:
            return "1.1"
        for part in node.content:
            if type(part) is not TextPart and type(part) is not ImagePart:
                return "1.1"
    return "1.0"


def stamped(tree: DialogueTree) -> DialogueTree:
    """``tree`` with ``schema_version`` set to :func:`lowest_version`, as every writer
    records it.

    >>> stamped(DialogueTree(id="t", schema_version="1.1")).schema_version
    '1.0'
    """
    version = lowest_version(tree)
    if version == tree.schema_version:
        return tree
    return msgspec.structs.replace(tree, schema_version=version)


# Encoding is always canonical: the same tree gives the same bytes.
_encoder = msgspec.json.Encoder(order="deterministic")


_decoder = msgspec.json.Decoder(DialogueTree)


def encode_tree(tree: DialogueTree) -> bytes:
    """Encode a tree as canonical JSON (no trailing newline), stamped with the lowest
    version that expresses it.

    >>> encode_tree(DialogueTree(id="t"))[:40]
    b'{"id":"t","schema_version":"1.0","meta":'
    """
    return _encoder.encode(stamped(tree))


def decode_tree(data: bytes | str) -> DialogueTree:
    """Decode and structurally validate one tree; raises ``msgspec.ValidationError``
    or ``msgspec.DecodeError``.

    >>> decode_tree(b'{"id":"t"}').id
    't'
    """
    return _decoder.decode(data)
