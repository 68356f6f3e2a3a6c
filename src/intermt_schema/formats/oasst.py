"""Open-Assistant message trees, both ways: one tree per JSON line.

``{"message_tree_id", "tree_state", "prompt": message}``, where a message is
``{"message_id", "parent_id", "text", "role": "prompter"|"assistant", "rank", "labels",
..., "replies": [message, ...]}``. Each message becomes a node with the same id; the
``rank`` among siblings (0 is best) becomes a local judgment for every ranked pair
(``meta["oasst_ranks"]`` holds the two ranks); every other field of a message
(``rank``, ``labels``, ``lang``, review counts, ...) is kept in the node's
``meta["oasst"]``, and the tree's own fields in ``meta.extra["oasst_tree"]``, so that
an export writes the tree back as it was. Label means are not ratings yet: the
schema's scores are integers.

>>> detect({"message_tree_id": "t", "prompt": {"message_id": "m", "text": "Hi"}})
True
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from ..schema._structs import DialogueTree, ImagePart, Judgment, Message, Role, TextPart, TreeMeta
from ..tree._merge import Conversation
from ..tree._view import TreeView
from ..validation._report import Issue
from ._linear import uses_tools
from ._records import load_records
from ._registry import Format, ImportResult, LossReport, register_format

__all__ = ["FORMAT", "detect", "load", "records"]

MESSAGE_META = "oasst"
TREE_EXTRA = "oasst_tree"
RANKS_META = "oasst_ranks"
_ROLES: dict[str, Role] = {"prompter": "user", "assistant": "assistant"}
_OWN = {"message_id", "parent_id", "text", "role", "replies"}


def _message(raw: Any, parent: str | None) -> Message:
    if not isinstance(raw, dict):
        raise TypeError("a message must be an object")
    node_id, text, role = raw["message_id"], raw["text"], raw["role"]
    if not isinstance(node_id, str) or not node_id:
        raise ValueError("message_id must be a non-empty string")
    if not isinstance(text, str):
        raise TypeError(f"message {node_id}: text must be a string")
    if role not in _ROLES:
        raise ValueError(f"message {node_id}: role {role!r} is not prompter or assistant")
    if raw.get("parent_id", parent) != parent:
        raise ValueError(f"message {node_id}: parent_id is not the message it replies to")
    kept = {k: v for k, v in raw.items() if k not in _OWN}
    return Message(id=node_id, parent=parent, role=_ROLES[role], content=[TextPart(text)],
                   meta={MESSAGE_META: kept} if kept else {})  # fmt: skip


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    tree_id = record["message_tree_id"]
    if not isinstance(tree_id, str) or not tree_id:
        raise ValueError("message_tree_id must be a non-empty string")
    extra = {k: v for k, v in record.items() if k not in ("message_tree_id", "prompt")}
    meta = TreeMeta(extra={TREE_EXTRA: extra} if extra else {})
    conversations: list[Conversation] = []
    stack: list[tuple[Any, list[Message]]] = [(record["prompt"], [])]
    while stack:  # depth first, without recursion: a hostile tree may be deep
        raw, path = stack.pop()
        message = _message(raw, path[-1].id if path else None)
        here = [*path, message]
        replies = raw.get("replies") or []
        if not isinstance(replies, list):
            raise TypeError(f"message {message.id}: replies must be a list")
        answers = [r for r in replies if isinstance(r, dict) and r.get("role") == "assistant"]
        judgments = _rank_judgments(answers)  # ranked questions keep their rank, unjudged
        if judgments or not replies:
            conversations.append(Conversation(messages=here, tree_id=tree_id, meta=meta,
                                              judgments=judgments, record=number))  # fmt: skip
        stack += [(reply, here) for reply in reversed(replies)]
    return conversations


def _rank_judgments(replies: list[dict[str, Any]]) -> list[Judgment]:
    """A judgment for every pair of ranked siblings, the better (lower rank) as ``a``."""
    ranked = [
        (r["rank"], r["message_id"])
        for r in replies
        if isinstance(r.get("rank"), int) and not isinstance(r.get("rank"), bool)
    ]
    return [
        Judgment(
            a=a, b=b, scope="local", overall="a" if ra < rb else "tie", meta={RANKS_META: [ra, rb]}
        )
        for (ra, a), (rb, b) in itertools.combinations(sorted(ranked), 2)
    ]


def load(url: str) -> ImportResult:
    """Read Open-Assistant message trees into dialogue trees."""
    return load_records(url, _parse, records_end=False)


def records(trees: Iterable[DialogueTree], loss: LossReport) -> Iterator[dict[str, Any]]:
    """One Open-Assistant tree per dialogue tree whose root is a question; what the
    layout cannot hold (images, system messages, ratings, judgments other than ranks)
    is counted."""
    for tree in trees:
        loss.drop("ratings", len(tree.ratings))
        loss.drop("judgments not made from ranks",
                  sum(1 for j in tree.judgments if RANKS_META not in j.meta))  # fmt: skip
        if uses_tools(tree.nodes, loss):
            loss.drop("trees with tool use (Open-Assistant messages are text)")
            continue
        view = TreeView(tree)
        for root in view.roots:
            if root.role != "user":
                loss.drop("trees that do not start with a question")
                continue
            yield {
                "message_tree_id": tree.id if len(view.roots) == 1 else f"{tree.id}:{root.id}",
                **tree.meta.extra.get(TREE_EXTRA, {}),
                "prompt": _nested(view, root, loss),
            }


def _nested(view: TreeView, root: Message, loss: LossReport) -> dict[str, Any]:
    """The message tree under ``root``, built without recursion."""
    made: dict[str, dict[str, Any]] = {}
    order = [root]
    for node in order:  # breadth first from the root; the list grows as it is read
        order += view.children(node.id)
    for node in reversed(order):  # children before parents
        if node.role == "system":
            loss.drop("system messages")
            continue
        images = sum(1 for p in node.content if type(p) is ImagePart)
        loss.drop("images (Open-Assistant messages are text)", images)
        made[node.id] = {
            "message_id": node.id,
            **({"parent_id": node.parent} if node.parent else {}),
            "text": "".join(p.text for p in node.content if type(p) is TextPart),
            "role": "prompter" if node.role == "user" else "assistant",
            **node.meta.get(MESSAGE_META, {}),
            "replies": [made[c.id] for c in view.children(node.id) if c.id in made],
        }
    return made[root.id]


def detect(record: dict[str, Any]) -> bool:
    """An Open-Assistant message tree."""
    prompt = record.get("prompt")
    return "message_tree_id" in record and isinstance(prompt, dict) and "message_id" in prompt


FORMAT = register_format(
    Format(
        name="oasst",
        lossless=False,
        reader=load,
        suffix=".jsonl",
        records=records,
        detect=detect,
        description="Open-Assistant message trees (ranks as judgments, fields kept in meta)",
    )
)
