"""The semantic rules over a whole tree: structure, content, ratings, judgments.

Every issue carries a rule code (listed in ``RULES``), a severity, the tree id and a
JSON pointer. ``strict`` turns warnings into errors.

>>> from intermt_schema import DialogueTree, Message, TextPart
>>> tree = DialogueTree(id="t", nodes=[Message(id="a", role="assistant", content=[TextPart("x")])])
>>> [i.code for i in validate(tree)]
['tree.role_order']
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from ..schema._dimensions import DimensionSet, dimensions_of
from ..schema._structs import (
    RESERVED_MESSAGE_META,
    RESERVED_TREE_EXTRA,
    VERSIONS,
    DialogueTree,
    ImageRef,
    MediaRef,
    Message,
    TextPart,
    ToolCallPart,
    media_of,
)
from ._containment import all_inside, escapes_root, is_local_root, lacks_source, path_problem
from ._images import check_image
from ._pointers import pointer_from_msgspec
from ._report import Report
from ._rules import DEFAULT_OPTIONS, IssueCollector, ValidationOptions
from ._shape import check_structure

__all__ = ["validate"]


def _check_content(tree: DialogueTree, out: IssueCollector, options: ValidationOptions) -> None:
    check_files = options.check_images
    root = options.images_root
    local_root = root.removeprefix("file://") if root and is_local_root(root) else None
    if local_root is not None and not check_files:  # paths only: ask of all at once
        start = len(out.issues)
        files = _check_parts(tree, out, None)
        if all_inside(local_root, files):
            return
        del out.issues[start:]  # some path is wrong: check one by one, in order

    def problems(ref: ImageRef | MediaRef, kind: str) -> list[tuple[str, tuple[str, str]]]:
        return _file_problems(ref, kind, options, local_root, check_files)

    _check_parts(tree, out, problems)


_Problems = Callable[[ImageRef | MediaRef, str], list[tuple[str, tuple[str, str]]]]


def _check_parts(
    tree: DialogueTree, out: IssueCollector, problems: _Problems | None
) -> list[ImageRef | MediaRef]:
    """Check each message's parts, with ``problems`` of each file it holds; without
    ``problems``, return the files instead."""
    files: list[ImageRef | MediaRef] = []
    by_id: dict[str, Message] = {}
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
            held = media_of(part)
            if held is None:
                continue  # reasoning and tool calls: text and JSON, nothing to open
            field, ref = held
            if problems is None:
                files.append(ref)
                continue
            for code, (suffix, text) in problems(ref, field):  # a video's, named as such
                kind = "image" if field == "image" else "media"
                where = f"/nodes/{i}/content/{j}/{field}{suffix}"
                out.add(code.replace("image", kind, 1), where, text.replace("image", field, 1))
        if node.role == "tool":
            by_id = by_id or {n.id: n for n in tree.nodes}
            _check_tool_result(by_id, i, node, out)
    return files


def _file_problems(
    ref: ImageRef | MediaRef,
    kind: str,
    options: ValidationOptions,
    local_root: str | None,
    check: bool,
) -> list[tuple[str, tuple[str, str]]]:
    """``(code, (pointer suffix, message))`` for each problem of one file reference of
    ``kind`` (image, video, audio)."""
    if lacks_source(ref):
        return [("image.no_source", ("", f"the {kind} has neither bytes, path nor uri"))]
    if ref.path:  # unsafe, or a link out of a local root (even when files are unchecked)
        if local_root is not None and not check:
            problem = escapes_root(local_root, ref.path)
        else:
            problem = path_problem(ref.path)
        if problem:
            return [(problem[0], ("/path", problem[1]))]
    if check:
        found = check_image(ref, options.images_root, options.image_limits)
        return [(code, ("", message)) for code, message in found]
    return []


def _check_tool_result(
    by_id: dict[str, Message], i: int, node: Message, out: IssueCollector
) -> None:
    """A ``tool`` message answers a call: its parent (or the assistant before a run of
    tool messages) holds a tool call, with the id it names when it names one."""
    caller = by_id.get(node.parent or "")
    while caller is not None and caller.role == "tool":
        caller = by_id.get(caller.parent or "")
    calls = [p for p in caller.content if type(p) is ToolCallPart] if caller else []
    if not calls:
        out.add("tool.no_call", f"/nodes/{i}", "the message before holds no tool call")
    elif node.tool_call_id is not None and node.tool_call_id not in {c.call_id for c in calls}:
        out.add(
            "tool.no_call",
            f"/nodes/{i}/tool_call_id",
            f"no tool call of the message before has the id {node.tool_call_id!r}",
        )


def _check_reserved(tree: DialogueTree, out: IssueCollector) -> None:
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
    tree: DialogueTree, index: dict[str, int], out: IssueCollector, dims: DimensionSet
) -> None:
    valid = dims.valid_scores
    nodes = tree.nodes
    assistants = {n.id for n in nodes if n.role == "assistant"}
    suspects = [
        k
        for k, r in enumerate(tree.ratings)
        if type(r.score) is not int
        or (r.dimension, r.scope, r.score) not in valid
        or r.target not in assistants
    ]
    for k in suspects:
        rating = tree.ratings[k]
        here = f"/ratings/{k}"
        targets: tuple[str, ...] = ("assistant",)
        if rating.dimension not in dims:
            out.add(
                "rating.unknown_dimension",
                here + "/dimension",
                f"dimension {rating.dimension!r} is not in set {dims.name!r}",
            )
        else:
            dim = dims.get(rating.dimension)
            targets = dim.targets if rating.scope == "local" else targets
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
                    f"score {rating.score!r} is not an integer: {rating.dimension!r} has "
                    f"the integer scale {dim.scale()}"
                    if type(rating.score) is float and not dim.real
                    else f"score {rating.score!r} is outside {dim.scale()}"
                    + (f" and {sorted(dim.special)}" if dim.special else ""),
                )
        i = index.get(rating.target)
        if i is None:
            out.add("rating.missing_target", here + "/target", f"no node {rating.target!r}")
        elif nodes[i].role not in targets:
            out.add(
                "rating.wrong_scope",
                here + "/target",
                f"{rating.scope} ratings of {rating.dimension!r} target "
                f"{' or '.join(targets)} nodes; {rating.target!r} is a {nodes[i].role} node",
            )


def _check_judgments(
    tree: DialogueTree, index: dict[str, int], out: IssueCollector, dims: DimensionSet
) -> None:
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
    out = IssueCollector(tree.id, source, line, options.strict)
    if tree.schema_version not in VERSIONS:
        out.add(
            "schema.version",
            "/schema_version",
            f"version {tree.schema_version!r} is not one of {', '.join(VERSIONS)}"
            + (
                ", which this reader knows; a newer intermt-schema may read it"
                if tree.schema_version.startswith("1.")
                else ""
            ),
        )
    index = check_structure(tree, out, options)
    _check_content(tree, out, options)
    _check_reserved(tree, out)
    dims, problems = dimensions_of(tree, options.dimensions)
    for problem in problems:
        out.add("meta.dimension_sets", "/meta/dimension_sets", problem)
    _check_ratings(tree, index, out, dims)
    _check_judgments(tree, index, out, dims)
    return Report(out.issues)
