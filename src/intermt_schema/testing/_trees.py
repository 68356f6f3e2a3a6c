"""Hypothesis strategies for dialogue trees and their parts.

>>> from hypothesis import find
>>> find(trees(with_tools_and_media=True), lambda t: t.schema_version == "1.1").schema_version
'1.1'
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from msgspec import structs

from ..schema._dimensions import INTERMT, DimensionSet
from ..schema._structs import (
    RESERVED_MESSAGE_META,
    RESERVED_TREE_EXTRA,
    AudioPart,
    DialogueTree,
    Generator,
    ImagePart,
    ImageRef,
    Judgment,
    MediaRef,
    Message,
    Outcome,
    Part,
    Rating,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    TreeMeta,
    VideoPart,
    stamped,
)

__all__ = ["CORRUPTIONS", "deep_trees", "image_refs", "json_values", "media_refs", "parts",
           "texts", "tool_calls", "trees"]  # fmt: skip

_CHILD_ROLE: dict[str, Role] = {"system": "user", "user": "assistant", "assistant": "user",
                                "tool": "assistant"}  # fmt: skip


texts = st.text(st.characters(codec="utf-8"), max_size=40)


"""Short texts of any Unicode (no surrogates)."""


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


"""JSON-compatible values, as found in ``meta`` fields."""


_hex = st.text("0123456789abcdef", min_size=8, max_size=8)


@st.composite
def image_refs(draw: st.DrawFn) -> ImageRef:
    """Image references with a safe relative path, inline bytes, or a URI."""
    source = draw(st.sampled_from(["path", "bytes", "uri"]))
    name = draw(_hex)
    ref = ImageRef(
        path=f"images/{name}.png" if source == "path" else None,
        bytes=draw(st.binary(min_size=1, max_size=16)) if source == "bytes" else None,
        uri=f"memory://img/{name}.png" if source == "uri" else None,
        mime=draw(st.sampled_from([None, "image/png"])),
        width=draw(st.none() | st.integers(1, 4096)),
        height=draw(st.none() | st.integers(1, 4096)),
        sha256=draw(st.none() | st.text("0123456789abcdef", min_size=64, max_size=64)),
    )
    return ref


@st.composite
def media_refs(draw: st.DrawFn) -> MediaRef:
    """Video and audio references with a safe relative path, inline bytes, or a URI."""
    source, name = draw(st.sampled_from(["path", "bytes", "uri"])), draw(_hex)
    return MediaRef(
        path=f"clips/{name}.mp4" if source == "path" else None,
        bytes=draw(st.binary(min_size=1, max_size=16)) if source == "bytes" else None,
        uri=f"memory://clips/{name}.wav" if source == "uri" else None,
        mime=draw(st.sampled_from([None, "video/mp4", "audio/wav"])),
        duration=draw(st.none() | st.floats(0, 3600, allow_nan=False)),
    )


_names = st.sampled_from(["circle_area", "search", "get_weather"])
tool_calls = st.builds(ToolCallPart, name=_names, arguments=json_values,
                       call_id=st.none() | _hex.map(lambda h: f"call_{h}"))  # fmt: skip
"""Tool calls with any JSON arguments."""


def parts(
    with_images: bool = True, with_media: bool = False, with_calls: bool = False
) -> st.SearchStrategy[list[Part]]:
    """Non-empty ordered content: text and (optionally) image parts interleaved;
    ``with_media`` adds videos, audio and reasoning (1.1), ``with_calls`` tool calls."""
    part: st.SearchStrategy[Part] = st.builds(TextPart, texts)
    if with_images:
        part = part | st.builds(ImagePart, image=image_refs())
    if with_media:
        part = part | st.builds(VideoPart, video=media_refs())
        part = part | st.builds(AudioPart, audio=media_refs()) | st.builds(ReasoningPart, texts)
    if with_calls:
        part = part | tool_calls
    return st.lists(part, min_size=1, max_size=4)


@st.composite
def _ratings(draw: st.DrawFn, assistants: list[str], dims: DimensionSet) -> list[Rating]:
    ratings = []
    for target in draw(st.lists(st.sampled_from(assistants), max_size=6)):
        dim = draw(st.sampled_from(list(dims)))
        allowed = [*range(dim.low, dim.high + 1), *dim.special]
        ratings.append(
            Rating(
                target=target,
                scope=dim.scope,
                dimension=dim.key,
                score=draw(st.sampled_from(allowed)),
                annotator=draw(st.none() | st.sampled_from(["ann1", "ann2", "ann3"])),
                rationale=draw(st.none() | texts),
            )
        )
    return ratings


@st.composite
def _full_ratings(
    draw: st.DrawFn, nodes: list[Message], dims: DimensionSet, annotators: int
) -> list[Rating]:
    """Every local dimension of every answer, and every global dimension of every path
    (rated on its last answer), by one to ``annotators`` annotators, as InterMT rates.
    Scores come from a narrow band often enough that siblings tie and dominate."""
    parents = {n.parent for n in nodes}
    answers = [n.id for n in nodes if n.role == "assistant"]
    ends = [n.id for n in nodes if n.role == "assistant" and n.id not in parents]
    low, high = draw(st.sampled_from([(0, 3), (1, 2), (2, 3)]))
    ratings = []
    for scope, targets in (("local", answers), ("global", ends)):
        for target in targets:
            for dim in dims.of_scope(scope):  # type: ignore[arg-type]
                band = [s for s in range(dim.low, dim.high + 1) if low <= s <= high]
                allowed = band + list(dim.special) if draw(st.booleans()) else band
                for k in range(draw(st.integers(1, annotators))):
                    ratings.append(
                        Rating(
                            target=target,
                            scope=dim.scope,
                            dimension=dim.key,
                            score=draw(st.sampled_from(allowed or [dim.low])),
                            annotator=f"ann{k + 1}",
                        )
                    )
    return ratings


@st.composite
def _judgments(draw: st.DrawFn, nodes: list[Message], dims: DimensionSet) -> list[Judgment]:
    siblings: dict[str | None, list[str]] = {}
    for n in nodes:
        if n.role == "assistant":
            siblings.setdefault(n.parent, []).append(n.id)
    local_pairs = [
        (g[i], g[j]) for g in siblings.values() for i in range(len(g)) for j in range(i + 1, len(g))
    ]
    assistants = [n.id for n in nodes if n.role == "assistant"]
    global_pairs = [(a, b) for i, a in enumerate(assistants) for b in assistants[i + 1 :]]
    outcome: st.SearchStrategy[Outcome] = st.sampled_from(["a", "b", "tie"])
    judgments = []
    for scope, pairs in (("local", local_pairs), ("global", global_pairs)):
        if not pairs:
            continue
        keys = [d.key for d in dims.of_scope(scope)]  # type: ignore[arg-type]
        for a, b in draw(st.lists(st.sampled_from(pairs), max_size=3)):
            judgments.append(
                Judgment(
                    a=a,
                    b=b,
                    scope=scope,  # type: ignore[arg-type]
                    outcomes=draw(st.dictionaries(st.sampled_from(keys), outcome, max_size=3)),
                    overall=draw(st.one_of(st.none(), outcome)),
                    annotator=draw(st.none() | st.just("ann1")),
                    rationale=draw(st.none() | texts),
                )
            )
    return judgments


def _free_keys(reserved: dict[str, Any]) -> st.SearchStrategy[str]:
    """Meta keys other than the reserved ones, whose values have types of their own."""
    return texts.filter(lambda key: key not in reserved)


@st.composite
def trees(
    draw: st.DrawFn,
    max_nodes: int = 12,
    min_nodes: int = 1,
    with_images: bool = True,
    with_ratings: bool = True,
    with_judgments: bool = True,
    dimensions: DimensionSet = INTERMT,
    rate_all: bool = False,
    annotators: int = 2,
    with_tools_and_media: bool = False,
) -> DialogueTree:
    """Valid dialogue trees: branching anywhere, alternating roles, scores on the scale.

    ``with_tools_and_media`` draws what schema 1.1 adds too: video, audio, reasoning
    and tool-call parts, ``tool`` messages answering an assistant's calls, and declared
    tools. Trees are stamped with the version that expresses them, as writers do.

    Each node's parent is drawn among the earlier nodes, so trees range from chains
    to bushes; roots are ``user`` or ``system``. By default a few ratings are drawn;
    ``rate_all`` rates every dimension of every answer and of every path, by one to
    ``annotators`` annotators, as InterMT does (judgments are drawn either way).
    """
    count = draw(st.integers(min_nodes, max(min_nodes, max_nodes)))
    message_meta = st.dictionaries(_free_keys(RESERVED_MESSAGE_META), json_values, max_size=2)
    prefix = draw(st.sampled_from(["n", "node-", "ü"]))
    nodes: list[Message] = []
    for i in range(count):
        parent = None if i == 0 else nodes[draw(st.integers(0, i - 1))]
        role: Role = (
            draw(st.sampled_from(["user", "system"]))
            if parent is None
            else _CHILD_ROLE[parent.role]
        )
        calls = [p for p in parent.content if type(p) is ToolCallPart] if parent else []
        if calls and with_tools_and_media and draw(st.booleans()):
            role = "tool"
        extra = _tool_fields(draw, role, calls, i == 0) if with_tools_and_media else {}
        nodes.append(
            Message(
                id=f"{prefix}{i}",
                parent=None if parent is None else parent.id,
                role=role,
                content=draw(
                    parts(
                        with_images and role != "system",
                        with_tools_and_media and role != "system",
                        with_tools_and_media and role == "assistant",
                    )
                ),
                **extra,
                generator=draw(
                    st.none()
                    | st.builds(
                        Generator,
                        model=st.just("gpt-4o"),
                        tools=st.lists(st.just("dalle"), max_size=1),
                    )
                ),
                meta=draw(message_meta),
            )
        )
    assistants = [n.id for n in nodes if n.role == "assistant"]
    tree = DialogueTree(
        id=draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)),
        meta=draw(
            st.builds(
                TreeMeta,
                source=st.none() | texts,
                category=st.none() | texts,
                extra=st.dictionaries(_free_keys(RESERVED_TREE_EXTRA), json_values, max_size=2),
            )
        ),
        nodes=nodes,
        ratings=(
            draw(_full_ratings(nodes, dimensions, annotators))
            if rate_all
            else draw(_ratings(assistants, dimensions))
            if with_ratings and assistants
            else []
        ),
        judgments=draw(_judgments(nodes, dimensions)) if with_judgments else [],
    )
    return stamped(tree)


def _tool_fields(
    draw: st.DrawFn, role: str, calls: list[ToolCallPart], root: bool
) -> dict[str, Any]:
    """``tool_call_id`` for a tool message (one of its caller's ids, if any), and the
    tools declared on some roots."""
    if role == "tool":
        ids = [c.call_id for c in calls if c.call_id is not None]
        return {"tool_call_id": draw(st.sampled_from(ids))} if ids else {}
    if root and draw(st.booleans()):
        return {"tools": draw(st.lists(json_values, max_size=2))}
    return {}


def deep_trees(depth: int) -> DialogueTree:
    """A single chain of ``depth`` nodes, alternating user and assistant.

    >>> len(deep_trees(5).nodes)
    5
    """
    nodes = [
        Message(
            id=f"n{i}",
            parent=None if i == 0 else f"n{i - 1}",
            role="user" if i % 2 == 0 else "assistant",
            content=[TextPart(f"turn {i}")],
        )
        for i in range(depth)
    ]
    return DialogueTree(id=f"deep-{depth}", nodes=nodes)


def _with(tree: DialogueTree, **changes: Any) -> DialogueTree:
    return structs.replace(copy.deepcopy(tree), **changes)


def _set_node(tree: DialogueTree, index: int, **changes: Any) -> DialogueTree:
    nodes = list(tree.nodes)
    nodes[index] = structs.replace(nodes[index], **changes)
    return _with(tree, nodes=nodes)


def _first(tree: DialogueTree, role: str) -> int | None:
    return next((i for i, n in enumerate(tree.nodes) if n.role == role), None)


def _rate(tree: DialogueTree, **rating: Any) -> DialogueTree | None:
    i = _first(tree, "assistant")
    if i is None:
        return None
    base = {"target": tree.nodes[i].id, "scope": "local", "dimension": "text_quality", "score": 1}
    return _with(tree, ratings=[*tree.ratings, Rating(**{**base, **rating})])


def _image(tree: DialogueTree, **ref: Any) -> DialogueTree:
    content = [*tree.nodes[0].content, ImagePart(image=ImageRef(**ref))]
    return _set_node(tree, 0, content=content)


def _non_siblings(tree: DialogueTree) -> DialogueTree | None:
    assistants = [n for n in tree.nodes if n.role == "assistant"]
    for a in assistants:
        for b in assistants:
            if a.parent != b.parent:
                judgment = Judgment(a=a.id, b=b.id, scope="local")
                return _with(tree, judgments=[*tree.judgments, judgment])
    return None


def _cycle(tree: DialogueTree) -> DialogueTree | None:
    if len(tree.nodes) < 2:
        return None
    last = tree.nodes[-1]
    # the root becomes a child of the last node: no root left, everything loops
    root = structs.replace(tree.nodes[0], parent=last.id)
    return _with(tree, nodes=[root, *tree.nodes[1:]], ratings=[], judgments=[])


CORRUPTIONS: dict[str, Callable[[DialogueTree], DialogueTree | None]] = {
    "tree.duplicate_id": lambda t: _with(t, nodes=[*t.nodes, t.nodes[-1]]),
    "tree.no_root": lambda t: _set_node(t, 0, parent="ghost"),
    "tree.multiple_roots": lambda t: _with(
        t, nodes=[*t.nodes, Message(id="extra-root", role="user", content=[TextPart("x")])]
    ),
    "tree.missing_parent": lambda t: _with(
        t,
        nodes=[
            *t.nodes,
            Message(id="orphan", parent="ghost", role="user", content=[TextPart("x")]),
        ],
    ),
    "tree.cycle": _cycle,
    "tree.role_order": lambda t: _set_node(t, 0, role="assistant"),
    "rating.missing_target": lambda t: _rate(t, target="ghost"),
    "rating.unknown_dimension": lambda t: _rate(t, dimension="charm"),
    "rating.wrong_scope": lambda t: _rate(t, dimension="helpfulness"),
    "rating.out_of_scale": lambda t: _rate(t, score=7),
    "judgment.self_pair": lambda t: _with(t, judgments=[Judgment(a="x", b="x", scope="local")]),
    "judgment.missing_target": lambda t: _with(
        t, judgments=[Judgment(a=t.nodes[0].id, b="ghost", scope="global")]
    ),
    "judgment.not_siblings": _non_siblings,
    "image.no_source": lambda t: _image(t),
    "image.absolute_path": lambda t: _image(t, path="/etc/passwd"),
    "image.escapes_root": lambda t: _image(t, path="images/../../secret.png"),
    "image.path_is_url": lambda t: _image(t, path="https://example.org/a.png"),
}


"""Rule code -> a function that breaks a valid tree so that exactly that rule fires
(among possibly others); returns None where the tree lacks what the rule needs."""
