"""The semantic rules over a whole tree: structure, content, ratings, judgments.

Every issue carries a rule code (listed in ``RULES``), a severity, the tree id and a
JSON pointer. ``strict`` turns warnings into errors.

>>> from intermt_schema import DialogueTree, Message, TextPart
>>> tree = DialogueTree(id="t", nodes=[Message(id="a", role="assistant", content=[TextPart("x")])])
>>> [i.code for i in validate(tree)]
['tree.role_order']
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

from ..schema._structs import (
    RESERVED_MESSAGE_META,
    RESERVED_TREE_EXTRA,
    DialogueTree,
    ImagePart,
    Message,
    TextPart,
)
from ._images import check_image, escapes_root, is_local_root, path_problem
from ._pointers import pointer_from_msgspec
from ._report import Issue, Report
from ._rules import DEFAULT_OPTIONS, ValidationOptions, rule_issue

__all__ = ["validate"]

_SAFE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")  # certainly fine; others get checked


_NEXT_ROLE = {
    None: ("system", "user"),
    "system": ("user",),
    "user": ("assistant",),
    "assistant": ("user",),
}


class _Collector:
    """Appends issues with the tree's locator and the configured severity."""

    __slots__ = ("issues", "line", "source", "strict", "tree")

    def __init__(self, tree: str | None, source: str | None, line: int | None, strict: bool):
        self.issues: list[Issue] = []
        self.tree, self.source, self.line, self.strict = tree, source, line, strict

    def add(self, code: str, path: str, message: str) -> None:
        self.issues.append(
            rule_issue(
                code,
                message,
                path=path,
                tree=self.tree,
                file=self.source,
                line=self.line,
                strict=self.strict,
            )
        )


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
    kids = child_counts()
    messages = sum(d + 1 for d, k in zip(depth, kids, strict=True) if not k)
    if messages > options.max_path_messages:
        limit = options.max_path_messages
        return f"its root-to-leaf paths hold {messages} messages; the limit is {limit}"
    rated = len({r.target for r in tree.ratings if r.scope == "global"})
    pairs = sum(k * (k - 1) // 2 for k in kids) + rated * (rated - 1) // 2
    if pairs > options.max_pairs:
        return f"its answers make {pairs} possible pairs; the limit is {options.max_pairs}"
    return None


def _check_structure(
    tree: DialogueTree, out: _Collector, options: ValidationOptions
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
    tree: DialogueTree, index: dict[str, int], reached: bytearray, out: _Collector
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


def _check_content(tree: DialogueTree, out: _Collector, options: ValidationOptions) -> None:
    check_files = options.check_images
    root = options.images_root
    local_root = root.removeprefix("file://") if root and is_local_root(root) else None
    for i, node in enumerate(tree.nodes):
        if not node.content:
            out.add("message.empty", f"/nodes/{i}/content", "the message has no content")
            continue
        for j, part in enumerate(node.content):
            if type(part) is TextPart:
                if node.role == "user" and ("]]" in part.text or "[[" in part.text):
                    out.add(
                        "text.leftover_markup",
                        f"/nodes/{i}/content/{j}/text",
                        "text holds '[[' or ']]', likely left by a generation pipeline",
                    )
                continue
            assert type(part) is ImagePart
            ref = part.image
            where = f"/nodes/{i}/content/{j}/image"
            if ref.bytes is None and not ref.path and not ref.uri:
                out.add("image.no_source", where, "the image has neither bytes, path nor uri")
                continue
            if ref.path and not (_SAFE_PATH.fullmatch(ref.path) and ".." not in ref.path):
                problem = path_problem(ref.path)
                if problem:
                    out.add(problem[0], where + "/path", problem[1])
                    continue
            if check_files:
                for code, message in check_image(ref, options.images_root, options.image_limits):
                    out.add(code, where, message)
            elif ref.path and local_root is not None:  # a link out of the root, even unchecked
                problem = escapes_root(local_root, ref.path)
                if problem:
                    out.add(problem[0], where + "/path", problem[1])


def _check_reserved(tree: DialogueTree, out: _Collector) -> None:
    """Reserved meta keys have the types their readers expect (``schema.type``)."""
    places = [("/meta/extra", tree.meta.extra, RESERVED_TREE_EXTRA)]
    places += [(f"/nodes/{i}/meta", n.meta, RESERVED_MESSAGE_META) for i, n in enumerate(tree.nodes)
               if n.meta]  # fmt: skip
    for where, meta, reserved in places:
        for key, kind in reserved.items():
            if key in meta:
                try:
                    msgspec.convert(meta[key], kind)
                except msgspec.ValidationError as exc:
                    text, path = pointer_from_msgspec(str(exc))
                    out.add("schema.type", f"{where}/{key}{path}", text)


def _check_ratings(
    tree: DialogueTree, index: dict[str, int], out: _Collector, options: ValidationOptions
) -> None:
    dims = options.dimensions
    valid = dims.valid_scores
    nodes = tree.nodes
    assistants = {n.id for n in nodes if n.role == "assistant"}
    suspects = [
        k
        for k, r in enumerate(tree.ratings)
        if (r.dimension, r.scope, r.score) not in valid or r.target not in assistants
    ]
    for k in suspects:
        rating = tree.ratings[k]
        here = f"/ratings/{k}"
        if rating.dimension not in dims:
            out.add(
                "rating.unknown_dimension",
                here + "/dimension",
                f"dimension {rating.dimension!r} is not in set {dims.name!r}",
            )
        else:
            dim = dims.get(rating.dimension)
            if dim.scope != rating.scope:
                out.add(
                    "rating.wrong_scope",
                    here + "/scope",
                    f"{rating.dimension!r} is a {dim.scope} dimension",
                )
            if not dim.allows(rating.score):
                out.add(
                    "rating.out_of_scale",
                    here + "/score",
                    f"score {rating.score} is outside {dim.low}..{dim.high}"
                    + (f" and {sorted(dim.special)}" if dim.special else ""),
                )
        i = index.get(rating.target)
        if i is None:
            out.add("rating.missing_target", here + "/target", f"no node {rating.target!r}")
        elif nodes[i].role != "assistant":
            out.add(
                "rating.wrong_scope",
                here + "/target",
                f"{rating.scope} ratings target assistant nodes; "
                f"{rating.target!r} is a {nodes[i].role} node",
            )


def _check_judgments(
    tree: DialogueTree, index: dict[str, int], out: _Collector, options: ValidationOptions
) -> None:
    dims = options.dimensions
    nodes = tree.nodes
    for k, judgment in enumerate(tree.judgments):
        here = f"/judgments/{k}"
        for key in judgment.outcomes:
            if key not in dims:
                out.add(
                    "judgment.unknown_dimension",
                    f"{here}/outcomes/{key}",
                    f"dimension {key!r} is not in set {dims.name!r}",
                )
            elif dims.get(key).scope != judgment.scope:
                out.add(
                    "judgment.wrong_scope",
                    f"{here}/outcomes/{key}",
                    f"{key!r} is a {dims.get(key).scope} dimension",
                )
        if judgment.a == judgment.b:
            out.add("judgment.self_pair", here + "/b", f"both targets are {judgment.a!r}")
            continue
        ia, ib = index.get(judgment.a), index.get(judgment.b)
        for name, i in (("a", ia), ("b", ib)):
            if i is None:
                out.add(
                    "judgment.missing_target",
                    f"{here}/{name}",
                    f"no node {getattr(judgment, name)!r}",
                )
            elif nodes[i].role != "assistant":
                out.add(
                    "judgment.wrong_scope",
                    f"{here}/{name}",
                    f"judgments compare assistant nodes; {nodes[i].id!r} is {nodes[i].role}",
                )
        if ia is None or ib is None:
            continue
        if judgment.scope == "local" and nodes[ia].parent != nodes[ib].parent:
            out.add(
                "judgment.not_siblings",
                here,
                f"{judgment.a!r} and {judgment.b!r} do not share a parent",
            )


def validate(
    tree: DialogueTree,
    options: ValidationOptions = DEFAULT_OPTIONS,
    *,
    source: str | None = None,
    line: int | None = None,
) -> Report:
    """Check the semantic rules on a decoded tree; returns every issue found.

    ``source`` and ``line`` name the record in reports.
    """
    out = _Collector(tree.id, source, line, options.strict)
    if not tree.schema_version.startswith("1."):
        out.add("schema.version", "/schema_version", f"version {tree.schema_version!r} is not 1.x")
    index = _check_structure(tree, out, options)
    _check_content(tree, out, options)
    _check_reserved(tree, out)
    _check_ratings(tree, index, out, options)
    _check_judgments(tree, index, out, options)
    return Report(out.issues)
