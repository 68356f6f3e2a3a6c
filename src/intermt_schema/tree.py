"""Walking, slicing, pruning, merging and splitting dialogue trees -- all iterative.

>>> import intermt_schema as im
>>> tree = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("Hi")]),
...     im.Message(id="a1", parent="q", role="assistant", content=[im.TextPart("Hello")]),
...     im.Message(id="a2", parent="q", role="assistant", content=[im.TextPart("Hey")]),
... ])
>>> view = TreeView(tree)
>>> [[m.id for m in p] for p in view.paths()]
[['q', 'a1'], ['q', 'a2']]
>>> [m.id for m in view.branch_points()]
['q']
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import overload

import msgspec
from msgspec import Struct, field, structs

from ._report import Issue
from ._schema import (
    DialogueTree,
    ImagePart,
    Judgment,
    Message,
    Part,
    Rating,
    TextPart,
    TreeMeta,
)

__all__ = [
    "Conversation",
    "MergeResult",
    "TreeView",
    "aggregate_scores",
    "content_key",
    "keep_best_branch",
    "map_content",
    "merge_paths",
    "path_ids",
    "prune",
    "same_tree",
    "split_paths",
]


class TreeView:
    """An index over a tree for constant-time lookups; build once, query often.

    Children keep the order of the node list. Every method is iterative, so chains of
    any depth work. Nodes unreachable from a root (cycles) are left out of walks.
    """

    def __init__(self, tree: DialogueTree) -> None:
        self.tree = tree
        self.by_id: dict[str, Message] = {}
        self._children: dict[str | None, list[Message]] = {}
        for node in tree.nodes:
            if node.id not in self.by_id:
                self.by_id[node.id] = node
                self._children.setdefault(node.parent, []).append(node)

    def node(self, node_id: str) -> Message:
        """The node with this id; ``KeyError`` if there is none."""
        return self.by_id[node_id]

    @property
    def roots(self) -> list[Message]:
        """Nodes with no parent, in list order."""
        return list(self._children.get(None, []))

    def children(self, node_id: str) -> list[Message]:
        """Direct children, in list order."""
        return list(self._children.get(node_id, []))

    def parent(self, node_id: str) -> Message | None:
        """The parent node, or None for a root."""
        parent = self.by_id[node_id].parent
        return None if parent is None else self.by_id.get(parent)

    def ancestors(self, node_id: str) -> list[Message]:
        """From the parent up to the root (nearest first); stops at a cycle."""
        found: list[Message] = []
        seen = {node_id}
        current = self.parent(node_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            found.append(current)
            current = self.parent(current.id)
        return found

    def path_to(self, node_id: str) -> list[Message]:
        """The linear conversation from the root to this node, both included."""
        return [*reversed(self.ancestors(node_id)), self.by_id[node_id]]

    def depth(self, node_id: str) -> int:
        """0 for a root."""
        return len(self.ancestors(node_id))

    def siblings(self, node_id: str) -> list[Message]:
        """The other children of this node's parent."""
        parent = self.by_id[node_id].parent
        return [n for n in self._children.get(parent, []) if n.id != node_id]

    def walk(self, breadth_first: bool = False) -> Iterator[tuple[Sequence[Message], Message]]:
        """Yield ``(path, node)`` for every reachable node, depth-first (pre-order) or
        breadth-first. ``path`` runs from the root to ``node``. Depth-first, it is one
        list updated in place, so copy it to keep it; breadth-first it is built on
        first use, so walking stays linear in the number of nodes.
        """
        if breadth_first:
            queue: deque[tuple[Message, _Link | None]] = deque(
                (root, None) for root in self._children.get(None, [])
            )
            while queue:
                node, up = queue.popleft()
                link = _Link(node, up)
                yield link.as_list(), node
                queue.extend((c, link) for c in self._children.get(node.id, []))
            return
        path: list[Message] = []
        stack = [(root, 0) for root in reversed(self._children.get(None, []))]
        while stack:
            node, depth = stack.pop()
            del path[depth:]
            path.append(node)
            yield path, node
            stack.extend((c, depth + 1) for c in reversed(self._children.get(node.id, [])))

    def subtree(self, node_id: str) -> list[Message]:
        """This node and all its descendants, depth-first."""
        found: list[Message] = []
        stack = [self.by_id[node_id]]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(self._children.get(node.id, [])))
        return found

    def leaves(self) -> list[Message]:
        """Reachable nodes without children, depth-first."""
        return [n for _, n in self.walk() if not self._children.get(n.id)]

    def branch_points(self) -> list[Message]:
        """Reachable nodes with more than one child, depth-first."""
        return [n for _, n in self.walk() if len(self._children.get(n.id, ())) > 1]

    def paths(self) -> list[list[Message]]:
        """Every root-to-leaf path, depth-first."""
        children, by_id = self._children, self.by_id
        found: list[list[Message]] = []
        stack = list(reversed(children.get(None, [])))
        while stack:  # leaves in depth-first order, then each leaf's parents
            node = stack.pop()
            below = children.get(node.id)
            if below:
                stack.extend(reversed(below))
                continue
            path = [node]
            while node.parent is not None:  # a reachable node's parents reach its root
                node = by_id[node.parent]
                path.append(node)
            path.reverse()
            found.append(path)
        return found

    def rated_paths(self) -> list[list[Message]]:
        """Paths ending at nodes that carry a global rating (leaves or not)."""
        ends = {r.target for r in self.tree.ratings if r.scope == "global"}
        return [list(p) for p, n in self.walk() if n.id in ends]

    def turns(self, path: Sequence[Message]) -> list[tuple[Message, Message | None]]:
        """A path as (user, assistant) pairs; a system message is skipped, and a final
        question without an answer gets ``None``."""
        pairs: list[tuple[Message, Message | None]] = []
        for message in path:
            if message.role == "user":
                pairs.append((message, None))
            elif message.role == "assistant" and pairs and pairs[-1][1] is None:
                pairs[-1] = (pairs[-1][0], message)
        return pairs


class _Link:
    """A node with a link to its parent's link: shared prefixes cost nothing."""

    __slots__ = ("node", "up")

    def __init__(self, node: Message, up: _Link | None) -> None:
        self.node, self.up = node, up

    def as_list(self) -> _LazyPath:
        return _LazyPath(self)


class _LazyPath(Sequence[Message]):
    """A root-to-node sequence, built the first time it is read."""

    __slots__ = ("_link", "_nodes")

    def __init__(self, link: _Link) -> None:
        self._link = link
        self._nodes: list[Message] | None = None

    def _list(self) -> list[Message]:
        if self._nodes is None:
            nodes = []
            link: _Link | None = self._link
            while link is not None:
                nodes.append(link.node)
                link = link.up
            self._nodes = nodes[::-1]
        return self._nodes

    @overload
    def __getitem__(self, index: int) -> Message: ...
    @overload
    def __getitem__(self, index: slice) -> list[Message]: ...
    def __getitem__(self, index: int | slice) -> Message | list[Message]:
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __eq__(self, other: object) -> bool:
        return self._list() == (list(other) if isinstance(other, Sequence) else other)

    def __repr__(self) -> str:
        return repr(self._list())


def aggregate_scores(
    tree: DialogueTree,
    dimensions: Sequence[str] | dict[str, float],
    how: Callable[[list[float]], float] | None = None,
) -> dict[str, float]:
    """One score per rated node: the mean over annotators of each dimension, then the
    (weighted) mean over dimensions. Nodes missing a dimension are left out.

    >>> import intermt_schema as im
    >>> t = im.DialogueTree(id="t", ratings=[
    ...     im.Rating(target="a", scope="local", dimension="text_quality", score=3),
    ...     im.Rating(target="a", scope="local", dimension="text_quality", score=1)])
    >>> aggregate_scores(t, ["text_quality"])
    {'a': 2.0}
    """
    weights = dict(dimensions) if isinstance(dimensions, dict) else dict.fromkeys(dimensions, 1.0)
    combine = how or (lambda xs: sum(xs) / len(xs))
    by_target: dict[str, dict[str, list[float]]] = {}
    for rating in tree.ratings:
        if rating.dimension in weights:
            by_target.setdefault(rating.target, {}).setdefault(rating.dimension, []).append(
                float(rating.score)
            )
    total = sum(weights.values())
    return {
        target: sum(weights[d] * combine(scores[d]) for d in weights) / total
        for target, scores in by_target.items()
        if all(d in scores for d in weights)
    }


def prune(tree: DialogueTree, keep: Callable[[Message], bool]) -> DialogueTree:
    """A new tree without the nodes ``keep`` refuses and everything below them.

    Ratings and judgments whose targets are gone are dropped too, so a valid tree
    stays valid.
    """
    view = TreeView(tree)
    kept: set[str] = set()
    for _, node in view.walk():
        if keep(node) and (node.parent is None or node.parent in kept):
            kept.add(node.id)
    return structs.replace(
        tree,
        nodes=[n for n in tree.nodes if n.id in kept and view.by_id[n.id] is n],
        ratings=[r for r in tree.ratings if r.target in kept],
        judgments=[j for j in tree.judgments if j.a in kept and j.b in kept],
    )


def keep_best_branch(
    tree: DialogueTree, dimensions: Sequence[str] | dict[str, float]
) -> DialogueTree:
    """Keep, at every branch point, only the child with the best aggregate score
    (unscored children count as lowest; ties keep the first in list order)."""
    scores = aggregate_scores(tree, dimensions)
    view = TreeView(tree)
    dropped: set[str] = set()
    for node in view.branch_points():
        children = view.children(node.id)
        best = max(children, key=lambda c: scores.get(c.id, float("-inf")))
        dropped.update(c.id for c in children if c is not best)
    return prune(tree, lambda n: n.id not in dropped)


def map_content(tree: DialogueTree, fn: Callable[[Message], list[Part]]) -> DialogueTree:
    """A new tree whose every message's content is ``fn(message)``."""
    return structs.replace(tree, nodes=[structs.replace(n, content=fn(n)) for n in tree.nodes])


class Conversation(Struct, kw_only=True):
    """One linear conversation (root first), with what belongs to it.

    A message whose ``id`` is ``""`` gets an id from the content hash of its prefix
    when merged. ``origin`` names the source record in reports; ``record`` is its id.
    """

    messages: list[Message]
    tree_id: str | None = None
    meta: TreeMeta = field(default_factory=TreeMeta)
    ratings: list[Rating] = field(default_factory=list)
    judgments: list[Judgment] = field(default_factory=list)
    origin: str | None = None
    record: int | str | None = None


class MergeResult(Struct):
    """Trees built by ``merge_paths``, and the conflicts found on the way."""

    trees: list[DialogueTree]
    issues: list[Issue]


_hash_encoder = msgspec.json.Encoder(order="deterministic")


def content_key(message: Message) -> bytes:
    """A stable digest of a message's role and content; images count by identity
    (sha256, else path, else uri, else their bytes)."""
    h = hashlib.sha256(message.role.encode())
    for part in message.content:
        if type(part) is TextPart:
            h.update(b"\x00t" + part.text.encode())
        elif type(part) is ImagePart:
            ref = part.image
            ident = (
                ref.sha256 or ref.path or ref.uri or hashlib.sha256(ref.bytes or b"").hexdigest()
            )
            h.update(b"\x00i" + ident.encode())
    return h.digest()


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
    return a.role == b.role and a.content == b.content


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
    two different contents is reported as ``merge.conflict`` naming both records,
    unless ``on_variant`` accepts the difference.
    """
    trees: dict[str, DialogueTree] = {}
    seen: dict[str, dict[str, tuple[Message, str | None]]] = {}
    issues: list[Issue] = []
    for conv in conversations:
        parent: str | None = None
        ids = path_ids(conv.messages)
        if not ids:
            continue
        tree_id = conv.tree_id or ids[0]
        tree = trees.get(tree_id)
        if tree is None:
            tree = trees[tree_id] = DialogueTree(id=tree_id, meta=conv.meta)
            seen[tree_id] = {}
        known = seen[tree_id]
        for node_id, message in zip(ids, conv.messages, strict=True):
            entry = known.get(node_id)
            if entry is None:
                node = structs.replace(message, id=node_id, parent=parent)
                tree.nodes.append(node)
                known[node_id] = (node, conv.origin)
            elif entry[0].parent != parent or not (
                _same_message(entry[0], message)
                or (on_variant is not None and on_variant(entry[0], message, conv))
            ):
                issues.append(
                    Issue(
                        code="merge.conflict",
                        severity="error",
                        tree=tree_id,
                        message=f"id {node_id!r} has different content or parent in "
                        f"{entry[1] or 'an earlier record'} and {conv.origin or 'a later record'}",
                    )
                )
            parent = node_id
        tree.ratings.extend(conv.ratings)
        tree.judgments.extend(conv.judgments)
    return MergeResult(list(trees.values()), issues)


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
