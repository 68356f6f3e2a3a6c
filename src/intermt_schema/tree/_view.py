"""A read-only view of a tree: lookups, children, paths, walks, siblings.

>>> import intermt_schema as im
>>> t = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("?")]),
...     im.Message(id="a", parent="q", role="assistant", content=[im.TextPart("!")])])
>>> len(TreeView(t).paths())
1
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import overload

from ..schema._structs import (
    DialogueTree,
    Message,
)

__all__ = ["TreeView"]


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

    def child_count(self, node_id: str) -> int:
        """How many children a node has."""
        return len(self._children.get(node_id, ()))

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

    def sibling_pair(self, a: str, b: str) -> tuple[Message, Message] | None:
        """The two nodes when both exist and share a parent (roots are no siblings);
        None otherwise."""
        first, second = self.by_id.get(a), self.by_id.get(b)
        if first is None or second is None or first.parent is None:
            return None
        return (first, second) if first.parent == second.parent else None

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
