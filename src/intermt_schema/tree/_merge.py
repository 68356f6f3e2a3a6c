"""Linear conversations to trees and back: ``merge_paths`` joins shared prefixes,
``split_paths`` gives every root-to-leaf conversation with what belongs to it.

>>> import intermt_schema as im
>>> t = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("?")])])
>>> same_tree(merge_paths(split_paths(t)).trees[0], t)
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec
from msgspec import Struct, field, structs

from ..schema._structs import (
    DialogueTree,
    ImagePart,
    Judgment,
    Message,
    Rating,
    TextPart,
    TreeMeta,
    stamped,
)
from ..validation._report import Issue
from ..validation._rules import rule_issue
from ._view import TreeView

__all__ = [
    "WRITTEN_AS_META",
    "Conversation",
    "MergeResult",
    "VariantHook",
    "content_key",
    "merge_paths",
    "path_ids",
    "same_tree",
    "split_paths",
]


class Conversation(Struct, kw_only=True):
    """One linear conversation (root first), with what belongs to it.

    A message whose ``id`` is ``""`` gets an id from the content hash of its prefix
    when merged, and a rating whose ``target`` is ``""`` rates the last message.
    ``origin`` names the source record in reports; ``record`` is its id.
    """

    messages: list[Message]
    tree_id: str | None = None
    meta: TreeMeta = field(default_factory=TreeMeta)
    ratings: list[Rating] = field(default_factory=list)
    judgments: list[Judgment] = field(default_factory=list)
    origin: str | None = None
    record: int | str | None = None
    line: int | None = None


class MergeResult(Struct):
    """Trees built by ``merge_paths``, the conflicts found on the way, the source lines
    (``Conversation.line``) each tree was built from, and the lines whose conversations
    added nothing (a duplicate of, or a prefix of, what came before)."""

    trees: list[DialogueTree]
    issues: list[Issue]
    lines: dict[str, list[int]] = field(default_factory=dict)
    redundant: list[int] = field(default_factory=list)
    ends: list[tuple[str, str] | None] = field(default_factory=list)
    """For each conversation, in order: ``(tree id, id of its last message)``, or None
    when it was refused."""


_hash_encoder = msgspec.json.Encoder(order="deterministic")


def content_key(message: Message) -> bytes:
    """A stable digest of a message's role and content; images count by identity
    (sha256, else path, else uri, else their bytes), other parts, declared tools and
    the call a tool message answers by their canonical JSON."""
    h = hashlib.sha256(message.role.encode())
    for part in message.content:
        if type(part) is TextPart:
            h.update(b"\x00t" + part.text.encode())
        elif type(part) is ImagePart:
            h.update(b"\x00i" + part.image.identity().encode())
        else:
            h.update(b"\x00p" + _hash_encoder.encode(part))
    if message.tools is not None or message.tool_call_id is not None:
        h.update(b"\x00c" + _hash_encoder.encode([message.tools, message.tool_call_id]))
    written = _written_as(message)
    if written:
        h.update(b"\x00w" + _hash_encoder.encode(written))
    return h.digest()


WRITTEN_AS_META = frozenset(
    {
        "llamafactory_loss_weight",
        "intermt_json_spelling",
        "openai_layout",
        "alpaca_input",
        "intermt_message_keys",
        "trl_step_labels",
    }
)
"""Message meta keys that record how a source wrote a message (a loss weight, the
spelling of its JSON, string or part content, an Alpaca ``input``, keys no field
holds, the labels of an answer's steps): two messages that differ in them are kept
apart, so that each comes back as it was written."""


def _written_as(message: Message) -> dict[str, Any]:
    meta = message.meta
    return {k: meta[k] for k in WRITTEN_AS_META if k in meta} if meta else {}


def path_ids(messages: Sequence[Message]) -> list[str]:
    """Each message's id, or for a message without one (``id=""``) an id derived from
    the content of the path up to and including it.

    >>> import intermt_schema as im
    >>> ids = path_ids([im.Message(id="", role="user", content=[im.TextPart("Hi")])])
    >>> ids[0].startswith("h"), len(ids[0])
    (True, 25)
    """
    if all(message.id for message in messages):
        return [message.id for message in messages]  # nothing to derive: skip hashing
    prefix = hashlib.sha256()
    ids = []
    for message in messages:
        prefix.update(content_key(message))
        ids.append(message.id or "h" + prefix.hexdigest()[:24])
    return ids


def _same_message(a: Message, b: Message) -> bool:
    return (
        a.role == b.role
        and a.content == b.content
        and a.tools == b.tools
        and a.tool_call_id == b.tool_call_id
        and _written_as(a) == _written_as(b)
    )


VariantHook = Callable[[Message, Message, Conversation], bool]


"""Called when a message id is seen again with other content: ``(kept, incoming,
conversation) -> accepted``. It may record the variant in ``kept.meta``."""


def merge_paths(
    conversations: Iterable[Conversation], on_variant: VariantHook | None = None
) -> MergeResult:
    """Build trees from linear conversations by shared prefix.

    Messages are matched by id where they have one, otherwise by a hash of their
    content and of everything before them. Conversations with the same ``tree_id``
    (or, without one, the same first message) form one tree. A message id used for
    two different contents (or parents) is reported as ``merge.conflict`` naming both
    records, unless ``on_variant`` accepts the difference; the later record is then
    left out whole, so nothing of it lands under the earlier record's messages.
    """
    trees: dict[str, DialogueTree] = {}
    seen: dict[str, dict[str, tuple[Message, str | None]]] = {}
    issues: list[Issue] = []
    lines: dict[str, list[int]] = {}
    added: dict[int, bool] = {}  # by source line: whether its conversations added anything
    ends: list[tuple[str, str] | None] = []
    for conv in conversations:
        ids = path_ids(conv.messages)
        ends.append(None)
        if not ids:
            continue
        tree_id = conv.tree_id or ids[0]
        known = seen.setdefault(tree_id, {})
        conflict = _conflict(ids, conv, known, on_variant)
        if conflict is not None:  # the whole record is refused, none of it merged
            issues.append(
                rule_issue(
                    "merge.conflict",
                    f"id {conflict!r} has different content or parent in "
                    f"{known[conflict][1] or 'an earlier record'} and "
                    f"{conv.origin or 'a later record'}; the later record is refused",
                    tree=tree_id,
                    line=conv.line,
                )
            )
            continue
        tree = trees.get(tree_id)
        if tree is None:
            tree = trees[tree_id] = DialogueTree(id=tree_id, meta=conv.meta)
        if conv.line is not None:
            lines.setdefault(tree_id, []).append(conv.line)
        parent: str | None = None
        new = bool(conv.ratings or conv.judgments)
        for node_id, message in zip(ids, conv.messages, strict=True):
            if node_id not in known:
                node = structs.replace(message, id=node_id, parent=parent)
                tree.nodes.append(node)
                known[node_id] = (node, conv.origin)
                new = True
            parent = node_id
        tree.ratings.extend(
            r if r.target else structs.replace(r, target=ids[-1]) for r in conv.ratings
        )
        tree.judgments.extend(conv.judgments)
        ends[-1] = (tree_id, ids[-1])
        if conv.line is not None:
            added[conv.line] = added.get(conv.line, False) or new
    redundant = [line for line, anything in added.items() if not anything]
    built = [stamped(tree) for tree in trees.values()]  # the version that expresses each
    return MergeResult(built, issues, lines, redundant, ends)


def _conflict(
    ids: list[str],
    conv: Conversation,
    known: dict[str, tuple[Message, str | None]],
    on_variant: VariantHook | None,
) -> str | None:
    """The first id of ``conv`` already merged with another content or parent."""
    parent: str | None = None
    for node_id, message in zip(ids, conv.messages, strict=True):
        entry = known.get(node_id)
        if entry is not None and (
            entry[0].parent != parent
            or not (
                _same_message(entry[0], message)
                or (on_variant is not None and on_variant(entry[0], message, conv))
            )
        ):
            return node_id
        parent = node_id
    return None


def split_paths(tree: DialogueTree) -> list[Conversation]:
    """Every root-to-leaf conversation of a tree; the inverse of ``merge_paths``.

    Each rating goes with the first path holding its target, each judgment with the
    first path holding its ``a``, so nothing is duplicated.
    """
    view = TreeView(tree)
    paths = view.paths()
    first_path: dict[str, int] = {}
    for index, path in enumerate(paths):
        for message in path:
            first_path.setdefault(message.id, index)
    ratings: list[list[Rating]] = [[] for _ in paths]
    judgments: list[list[Judgment]] = [[] for _ in paths]
    for rating in tree.ratings:
        ratings[first_path.get(rating.target, 0)].append(rating)
    for judgment in tree.judgments:
        judgments[first_path.get(judgment.a, 0)].append(judgment)
    return [
        Conversation(
            messages=[structs.replace(m, parent=None) for m in path],
            tree_id=tree.id,
            meta=tree.meta,
            ratings=ratings[i],
            judgments=judgments[i],
        )
        for i, path in enumerate(paths)
    ]


def same_tree(a: DialogueTree, b: DialogueTree) -> bool:
    """Equal up to the order of the node, rating and judgment lists.

    >>> import intermt_schema as im
    >>> same_tree(im.DialogueTree(id="t"), im.DialogueTree(id="t"))
    True
    """

    def key(items: Iterable[Struct]) -> list[bytes]:
        return sorted(_hash_encoder.encode(i) for i in items)

    return (
        (a.id, a.schema_version, a.meta) == (b.id, b.schema_version, b.meta)
        and key(a.nodes) == key(b.nodes)
        and key(a.ratings) == key(b.ratings)
        and key(a.judgments) == key(b.judgments)
    )
