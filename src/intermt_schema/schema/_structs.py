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

import hashlib
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
from msgspec import Meta, Struct, field

__all__ = [
    "RESERVED_MESSAGE_META",
    "RESERVED_TREE_EXTRA",
    "ROLES",
    "SCHEMA_VERSION",
    "DialogueTree",
    "Generator",
    "Id",
    "ImagePart",
    "ImageRef",
    "Judgment",
    "Message",
    "Outcome",
    "Part",
    "Pixels",
    "Rating",
    "Role",
    "Scope",
    "Score",
    "Sha256",
    "TextPart",
    "TreeMeta",
    "decode_tree",
    "encode_tree",
]

SCHEMA_VERSION = "1.0"


"""The version written by this library. Readers accept every ``1.x``."""


Id = Annotated[str, Meta(min_length=1, description="A non-empty identifier.")]


Role: TypeAlias = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


Scope: TypeAlias = Literal["local", "global"]


Outcome: TypeAlias = Literal["a", "b", "tie"]


Sha256 = Annotated[str, Meta(pattern="^[0-9a-f]{64}$", description="Lower-case hex SHA-256.")]


_Bytes: TypeAlias = bytes  # the field ImageRef.bytes shadows the builtin in its class


Pixels = Annotated[int, Meta(ge=1, le=2**31 - 1, description="A size in pixels.")]
RESERVED_MESSAGE_META: dict[str, Any] = {
    "intermt_placeholders": list[str],
    "intermt_image_variants": dict[str, list[str]],
    "intermt_record_keys": dict[str, dict[str, Any]],
    "intermt_blank_images": Annotated[int, Meta(ge=1, le=2**31 - 1)],
    "llamafactory_loss_weight": float,
}
"""Keys of ``Message.meta`` the library writes and reads back, with their types."""
RESERVED_TREE_EXTRA: dict[str, Any] = {"meta_data": dict[str, Any]}
"""Keys of ``TreeMeta.extra`` the library writes and reads back, with their types."""

Score = Annotated[
    int, Meta(ge=-(2**31), le=2**31 - 1, description="A score; its scale is the dimension's.")
]


class _Base(Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True, gc=False):
    """Common options: keyword construction, defaults left out of the encoding, and no
    garbage-collector tracking (records hold no reference cycles), which speeds decoding."""


class ImageRef(_Base, kw_only=True):
    """Where an image lives: inline ``bytes``, a ``path`` relative to the dataset root,
    or a ``uri`` that fsspec can open. At least one of the three is required.

    >>> ImageRef(path="images/cat.png").path
    'images/cat.png'
    """

    bytes: _Bytes | None = None
    path: str | None = None
    uri: str | None = None
    sha256: Sha256 | None = None
    mime: str | None = None
    width: Pixels | None = None
    height: Pixels | None = None

    def identity(self) -> str:
        """What makes two references the same image: the sha256, else the path, else
        the uri, else a digest of the bytes.

        >>> ImageRef(path="images/cat.png", uri="s3://b/cat.png").identity()
        'images/cat.png'
        """
        if self.sha256 or self.path or self.uri:
            return self.sha256 or self.path or self.uri or ""
        return hashlib.sha256(self.bytes or b"").hexdigest()


class TextPart(_Base, tag="text", tag_field="type", kw_only=False):
    """A run of text inside a message.

    >>> TextPart("hello").text
    'hello'
    """

    text: str


class ImagePart(_Base, tag="image", tag_field="type", kw_only=True):
    """An image at its position among a message's parts.

    >>> ImagePart(image=ImageRef(path="images/a.png")).image.path
    'images/a.png'
    """

    image: ImageRef


Part: TypeAlias = TextPart | ImagePart


"""A content part. Discriminated by ``type``; new part kinds arrive as new tags."""


class Generator(_Base, kw_only=True):
    """Who produced a message: a model, and the tool calls behind its images."""

    model: str | None = None
    tools: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class Message(_Base, kw_only=True):
    """One node of a dialogue tree.

    >>> Message(id="n1", role="user", content=[TextPart("Hi")]).parent is None
    True
    """

    id: Id
    parent: str | None = None
    role: Role
    content: list[Part] = field(default_factory=list)
    generator: Generator | None = None
    meta: dict[str, Any] = field(default_factory=dict)


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
    """Where a tree came from. ``extra`` keeps source fields with no place of their own."""

    source: str | None = None
    category: str | None = None
    task: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DialogueTree(Struct, kw_only=True, gc=False):
    """One seed prompt and every conversation grown from it, as a flat node list.

    Every field is always written, so a stored tree states its ``schema_version``.

    >>> DialogueTree(id="t").schema_version
    '1.0'
    """

    id: Id
    schema_version: str = SCHEMA_VERSION
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


# Encoding is always canonical: the same tree gives the same bytes.
_encoder = msgspec.json.Encoder(order="deterministic")


_decoder = msgspec.json.Decoder(DialogueTree)


def encode_tree(tree: DialogueTree) -> bytes:
    """Encode a tree as canonical JSON (no trailing newline).

    >>> encode_tree(DialogueTree(id="t"))[:40]
    b'{"id":"t","schema_version":"1.0","meta":'
    """
    return _encoder.encode(tree)


def decode_tree(data: bytes | str) -> DialogueTree:
    """Decode and structurally validate one tree; raises ``msgspec.ValidationError``
    or ``msgspec.DecodeError``.

    >>> decode_tree(b'{"id":"t"}').id
    't'
    """
    return _decoder.decode(data)
