"""Open-Assistant message trees, both ways: one tree per JSON line.

``{"message_tree_id", "tree_state", "prompt": message}``, where a message is
``{"message_id", "parent_id", "text", "role": "prompter"|"assistant", "rank", "labels",
..., "replies": [message, ...]}``. Each message becomes a node with the same id; the
``rank`` among siblings (0 is best) becomes a local judgment for every ranked pair
(``meta["oasst_ranks"]`` holds the two ranks). ``labels`` (name -> ``{"value",
"count"}``) become local ratings in the ``oasst`` dimension set, which the tree then
declares, with the count in the rating's ``meta["oasst_count"]``; a ``labels`` object
that does not fit that set (an unknown name, another shape) is kept as it is. Every
other field of a message (``rank``, ``lang``, review counts, ...) is kept in the
node's ``meta["oasst"]``, and the tree's own fields in ``meta.extra["oasst_tree"]``,
so that an export writes the tree back as it was.

>>> detect({"message_tree_id": "t", "prompt": {"message_id": "m", "text": "Hi"}})
True
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from ..schema._dimensions import OASST
from ..schema._structs import (
    DialogueTree,
    ImagePart,
    Judgment,
    Message,
    Rating,
    Role,
    TextPart,
    TreeMeta,
)
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
COUNT_META = "oasst_count"
_ROLES: dict[str, Role] = {"prompter": "user", "assistant": "assistant"}
_OWN = {"message_id", "parent_id", "text", "role", "replies"}


def _label_ratings(node_id: str, labels: Any) -> list[Rating] | None:
    """The ratings ``labels`` holds, or None when it does not fit the ``oasst`` set.

    >>> [(r.dimension, r.score) for r in _label_ratings("m", {"spam": {"value": 0.0, "count": 3}})]
    [('spam', 0.0)]
    """
    if not isinstance(labels, dict) or not labels:
        return None
    ratings = []
    for name, label in labels.items():
        if name not in OASST or not isinstance(label, dict) or set(label) - {"value", "count"}:
            return None
        value = label.get("value")
        if not isinstance(value, (int, float)) or not OASST.get(name).allows(value):
            return None  # allows() refuses bools
        if "count" in label and type(label["count"]) is not int:
            return None
        meta = {COUNT_META: label["count"]} if "count" in label else {}
        ratings.append(
            Rating(target=node_id, scope="local", dimension=name, score=value, meta=meta)
        )
    return ratings


def _message(raw: Any, parent: str | None) -> tuple[Message, list[Rating]]:
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
    ratings = _label_ratings(node_id, kept.get("labels"))
    if ratings is not None:
        del kept["labels"]
    message = Message(id=node_id, parent=parent, role=_ROLES[role], content=[TextPart(text)],
                      meta={MESSAGE_META: kept} if kept else {})  # fmt: skip
    return message, ratings or []


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    tree_id = record["message_tree_id"]
    if not isinstance(tree_id, str) or not tree_id:
        raise ValueError("message_tree_id must be a non-empty string")
    extra = {k: v for k, v in record.items() if k not in ("message_tree_id", "prompt")}
    meta = TreeMeta(extra={TREE_EXTRA: extra} if extra else {})
    conversations: list[Conversation] = []
    ratings: list[Rating] = []
    stack: list[tuple[Any, list[Message]]] = [(record["prompt"], [])]
    while stack:  # depth first, without recursion: a hostile tree may be deep
        raw, path = stack.pop()
        message, labels = _message(raw, path[-1].id if path else None)
        ratings += labels
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
    if ratings:  # the tree's labels, once
        meta.dimension_sets = [OASST.name]
        conversations[0].ratings = ratings
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
    layout cannot hold (images, system messages, ratings outside the ``oasst`` set,
    judgments other than ranks) is counted."""
    for tree in trees:
        labels = _labels(tree, loss)
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
                "prompt": _nested(view, root, labels, loss),
            }


def _labels(tree: DialogueTree, loss: LossReport) -> dict[str, dict[str, Any]]:
    """Each node's ``labels`` from its local ratings in the ``oasst`` set; other
    ratings are counted."""
    labels: dict[str, dict[str, Any]] = {}
    declared = OASST.name in (tree.meta.dimension_sets or ())
    for r in tree.ratings:
        if not (declared and r.scope == "local" and r.dimension in OASST):
            loss.drop("ratings outside the oasst dimension set")
            continue
        count = r.meta.get(COUNT_META)
        label = {"value": r.score, **({"count": count} if count is not None else {})}
        labels.setdefault(r.target, {})[r.dimension] = label
    return labels


def _nested(
    view: TreeView, root: Message, labels: dict[str, dict[str, Any]], loss: LossReport
) -> dict[str, Any]:
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
            **({"labels": labels[node.id]} if node.id in labels else {}),
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
