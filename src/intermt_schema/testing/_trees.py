"""Hypothesis strategies for dialogue trees and their parts.

>>> from hypothesis import find
>>> find(trees(with_tools_and_media=True), lambda t: t.schema_version == "1.1").schema_version
'1.1'
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ..schema._dimensions import INTERMT, DimensionSet, dimensions_of
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

__all__ = ["DECLARED_SETS", "image_refs", "json_values", "media_refs", "parts",
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
def _ratings(draw: st.DrawFn, nodes: list[Message], dims: DimensionSet) -> list[Rating]:
    """A few ratings, each on a node its dimension may rate: integers on integer scales,
    any number (``1.0`` included) on real ones."""
    ratings = []
    for _ in range(draw(st.integers(0, 6))):
        dim = draw(st.sampled_from(list(dims)))
        roles = dim.targets if dim.scope == "local" else ("assistant",)
        targets = [n.id for n in nodes if n.role in roles]
        if not targets:
            continue
        allowed = [*range(int(dim.low), int(dim.high) + 1), *dim.special]
        score = draw(
            st.floats(dim.low, dim.high) | st.sampled_from([float(s) for s in allowed])
            if dim.real
            else st.sampled_from(allowed)
        )
        ratings.append(
            Rating(
                target=draw(st.sampled_from(targets)),
                scope=dim.scope,
                dimension=dim.key,
                score=score,
                annotator=draw(st.none() | st.sampled_from(["ann1", "ann2", "ann3"])),
                rationale=draw(st.none() | texts),
            )
        )
    return ratings


DECLARED_SETS = (["kto"], ["oasst"], ["intermt", "kto"], ["kto", "oasst"])
"""The dimension sets trees drawn with ``with_dimension_sets`` declare."""


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
                band = [s for s in range(int(dim.low), int(dim.high) + 1) if low <= s <= high]
                allowed = band + list(dim.special) if draw(st.booleans()) else band
                for k in range(draw(st.integers(1, annotators))):
                    ratings.append(
                        Rating(
                            target=target,
                            scope=dim.scope,
                            dimension=dim.key,
                            score=draw(st.sampled_from(allowed or [int(dim.low)])),
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
                    outcomes=draw(
                        st.dictionaries(st.sampled_from(keys), outcome, max_size=3)
                        if keys
                        else st.just({})
                    ),
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
    with_dimension_sets: bool = False,
) -> DialogueTree:
    """Valid dialogue trees: branching anywhere, alternating roles, scores on the scale.

    ``with_tools_and_media`` draws what schema 1.1 adds too: video, audio, reasoning
    and tool-call parts, ``tool`` messages answering an assistant's calls, and declared
    tools. ``with_dimension_sets`` draws what 1.2 adds: the tree declares dimension sets
    (``kto``, ``oasst``, or two together) and is rated on them, real scales with float
    scores, Open-Assistant's labels on questions too. Trees are stamped with the
    version that expresses them, as writers do.

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
    declared = draw(st.sampled_from(DECLARED_SETS)) if with_dimension_sets else None
    if declared is not None:
        dimensions = dimensions_of(DialogueTree(id="-", meta=TreeMeta(dimension_sets=declared)),
                                   dimensions)[0]  # fmt: skip
    tree = DialogueTree(
        id=draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)),
        meta=draw(
            st.builds(
                TreeMeta,
                source=st.none() | texts,
                category=st.none() | texts,
                extra=st.dictionaries(_free_keys(RESERVED_TREE_EXTRA), json_values, max_size=2),
                dimension_sets=st.just(declared),
            )
        ),
        nodes=nodes,
        ratings=(
            draw(_full_ratings(nodes, dimensions, annotators))
            if rate_all
            else draw(_ratings(nodes, dimensions))
            if with_ratings
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
