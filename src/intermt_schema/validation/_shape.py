"""The shape of a tree: unique ids, one root, parents that exist, no cycles, roles in
order, and sizes within the limits, including what grows with the square of the size
(the messages of all paths, the pairs ratings allow).

>>> from intermt_schema import DialogueTree, Message, TextPart
>>> from ._rules import DEFAULT_OPTIONS
>>> out = IssueCollector("t", None, None, False)
>>> tree = DialogueTree(id="t", nodes=[Message(id="a", parent="b", role="user", content=[])])
>>> _ = check_structure(tree, out, DEFAULT_OPTIONS)
>>> [i.code for i in out.issues]
['tree.no_root', 'tree.missing_parent']
"""

from __future__ import annotations

from collections.abc import Callable

from ..schema._structs import DialogueTree, Message
from ._rules import IssueCollector, ValidationOptions

__all__ = ["PATH_MESSAGES_PER_NODE", "check_structure"]

_NEXT_ROLE = {
    None: ("system", "user"),
    "system": ("user",),
    "user": ("assistant",),
    "assistant": ("user", "tool"),
    "tool": ("assistant", "tool"),
}


_VALID_STEPS = frozenset(
    (parent, child) for parent, children in _NEXT_ROLE.items() for child in children
)


def _well_formed(tree: DialogueTree, options: ValidationOptions) -> dict[str, int] | None:
    """The id index when the tree is plainly valid (unique ids, the root first, every
    parent before its children, roles in order, within limits); None to diagnose."""
    nodes = tree.nodes
    index = {node.id: i for i, node in enumerate(nodes)}
    count = len(nodes)
    if not nodes or len(index) != count or count > options.max_nodes:
        return None
    first = nodes[0]
    if first.parent is not None or (
        first.role not in _NEXT_ROLE[None] and options.role_order == "alternate"
    ):
        return None
    depth = [0] * count
    check_roles = options.role_order == "alternate"
    get = index.get
    for i in range(1, count):
        node = nodes[i]
        p = get(node.parent, count)  # type: ignore[arg-type]
        if p >= i:
            return None
        depth[i] = depth[p] + 1
        if check_roles and (nodes[p].role, node.role) not in _VALID_STEPS:
            return None
    if max(depth) > options.max_depth:
        return None
    if _quadratic_size(tree, depth, lambda: _child_counts(nodes, index), options):
        return None
    return index


def _child_counts(nodes: list[Message], index: dict[str, int]) -> list[int]:
    """For each node (by index), how many children it has."""
    counts = [0] * len(nodes)
    for node in nodes:
        if node.parent is not None and node.parent in index:
            counts[index[node.parent]] += 1
    return counts


PATH_MESSAGES_PER_NODE = 32
"""Paths may always hold this many messages per node (a bushy tree's paths hold about
half its depth per node); ``max_path_messages`` bounds what goes beyond."""


def _quadratic_size(
    tree: DialogueTree,
    depth: list[int],
    child_counts: Callable[[], list[int]],
    options: ValidationOptions,
) -> str | None:
    """Why the messages of the tree's paths, or the pairs its ratings allow, exceed
    their limits, or None. Both are at most quadratic in the node count, so small trees
    are not counted at all."""
    n = len(depth)
    if n * (n + 1) // 2 <= min(options.max_path_messages, options.max_pairs):
        return None
    limit = max(options.max_path_messages, PATH_MESSAGES_PER_NODE * n)
    messages = sum(d + 1 for d, k in zip(depth, child_counts(), strict=True) if not k)
    if messages > limit:
        return f"its root-to-leaf paths hold {messages} messages; the limit is {limit}"
    parents = {node.id: node.parent for node in tree.nodes}
    rated: dict[tuple[str, str | None], set[str]] = {}  # rated answers by scope and group
    for r in tree.ratings:
        group = parents.get(r.target) if r.scope == "local" else None
        rated.setdefault((r.scope, group), set()).add(r.target)
    pairs = sum(len(t) * (len(t) - 1) // 2 for t in rated.values())
    if pairs > options.max_pairs:
        return f"its ratings make {pairs} possible pairs; the limit is {options.max_pairs}"
    return None


def check_structure(
    tree: DialogueTree, out: IssueCollector, options: ValidationOptions
) -> dict[str, int]:
    """Node-level rules; returns id -> index of the first node with each id."""
    fast = _well_formed(tree, options)
    if fast is not None:
        return fast
    nodes = tree.nodes
    if len(nodes) > options.max_nodes:
        out.add("tree.too_large", "/nodes", f"{len(nodes)} nodes; the limit is {options.max_nodes}")
    index: dict[str, int] = {}
    roots: list[int] = []
    for i, node in enumerate(nodes):
        if node.id in index:
            out.add(
                "tree.duplicate_id",
                f"/nodes/{i}/id",
                f"id {node.id!r} is already used by /nodes/{index[node.id]}",
            )
        else:
            index[node.id] = i
        if node.parent is None:
            roots.append(i)
    if not nodes:
        out.add("tree.no_root", "/nodes", "the tree has no nodes")
        return index
    if not roots:
        out.add("tree.no_root", "/nodes", "no node has parent null")
    elif len(roots) > 1:
        others = ", ".join(repr(nodes[i].id) for i in roots)
        out.add("tree.multiple_roots", f"/nodes/{roots[1]}/parent", f"roots: {others}")
    children: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        parent = node.parent
        if parent is None:
            continue
        if parent not in index:
            out.add(
                "tree.missing_parent", f"/nodes/{i}/parent", f"parent {parent!r} does not exist"
            )
        else:
            children.setdefault(parent, []).append(i)
    # Walk down from the roots; what is never reached hangs off a cycle.
    depth = [0] * len(nodes)
    reached = bytearray(len(nodes))
    stack = list(roots)
    alternate = options.role_order == "alternate"
    too_deep = False
    while stack:
        i = stack.pop()
        if reached[i]:
            continue
        reached[i] = 1
        node = nodes[i]
        parent_index = index.get(node.parent) if node.parent is not None else None
        if parent_index is not None:
            depth[i] = depth[parent_index] + 1
            if depth[i] > options.max_depth and not too_deep:
                too_deep = True
                out.add(
                    "tree.too_large",
                    f"/nodes/{i}",
                    f"depth exceeds the limit of {options.max_depth}",
                )
        if alternate:
            parent_role = nodes[parent_index].role if parent_index is not None else None
            if node.role not in _NEXT_ROLE[parent_role]:
                after = f"after {parent_role!r}" if parent_role else "at the root"
                out.add("tree.role_order", f"/nodes/{i}/role", f"role {node.role!r} {after}")
        kids = children.get(node.id)
        if kids and index[node.id] == i:
            stack.extend(reversed(kids))
    _report_cycles(tree, index, reached, out)
    too_big = _quadratic_size(tree, depth, lambda: _child_counts(nodes, index), options)
    if too_big:
        out.add("tree.too_large", "/nodes", too_big)
    return index


def _report_cycles(
    tree: DialogueTree, index: dict[str, int], reached: bytearray, out: IssueCollector
) -> None:
    """Report each cycle once; unreached nodes below a missing parent are not cycles."""
    nodes = tree.nodes
    state = bytearray(len(nodes))  # 0 unseen, 1 on the current chain, 2 settled
    for start, node in enumerate(nodes):
        if reached[start] or state[start] or index[node.id] != start:
            continue
        chain: list[int] = []
        j: int | None = start
        while j is not None and not state[j] and not reached[j]:
            state[j] = 1
            chain.append(j)
            parent = nodes[j].parent
            j = index.get(parent) if parent is not None else None
        if j is not None and state[j] == 1:
            loop = chain[chain.index(j) :]
            names = " -> ".join(repr(nodes[k].id) for k in [*loop, j])
            out.add("tree.cycle", f"/nodes/{min(loop)}/parent", f"parents form a cycle: {names}")
        for k in chain:
            state[k] = 2
