"""What the training formats share: flattening a path into turns with image
placeholders, placing image files, reading placeholders back, and preference pairs.

The rule for images a trainer cannot place: LLaVA, LLaMA-Factory and TRL train only on
images in prompt turns. By default (``assistant_images="move"``) an image inside an
assistant turn moves to the start of the next user turn, where the model sees it as
context; the assistant text keeps the source's ``<Image, ...>`` placeholder where one
was recorded. With ``"drop"`` such images are left out. Either way the loss report
counts them, and images after the last user turn are dropped and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from msgspec import structs

from ..schema._dimensions import DESIRABLE, KTO
from ..schema._structs import (
    AudioPart,
    DialogueTree,
    ImagePart,
    ImageRef,
    Judgment,
    MediaRef,
    Message,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    VideoPart,
)
from ..tree._view import TreeView
from ._registry import LossReport
from ._turns import MEDIA_TOKENS

RECORD_ENDS = "intermt_record_ends"
"""The message meta key listing the supervised records that ended at a message beyond
what the tree's shape says (a leaf ends one): a record repeated, or a record that is a
prefix of another, each as the record keys it kept (:data:`RECORD_KEYS`). Supervised
exports write each of them again."""

LABEL = "intermt_label"
"""The meta key :func:`sft_paths` puts on the last message of a path it yields (a
copy, never stored): the record's unpaired label, ``true`` or ``false``, from the
answer's ``desirable`` ratings (``kto`` set), the k-th record ending at an answer
taking its k-th rating, as they were imported."""

RECORD_KEYS = "intermt_record_keys"
"""The message meta key that keeps what a source record held beyond what the trees
carry: ``{"<format>/<sft|pair>": {key: value}}``, on the record's last message (the
chosen answer of a preference record), so that an export to the same format and kind
restores it (see :func:`intermt_schema.formats._records.restore_keys`)."""

__all__ = [
    "PLACEHOLDERS_META",
    "AssistantImages",
    "LinearOptions",
    "Turn",
    "check_alternation",
    "judgment_pairs",
    "linearize",
    "pair_turns",
    "record_id",
    "sft_paths",
    "sft_turns",
    "tree_pairs",
    "uses_tools",
    "with_images",
    "within_limits",
]

PLACEHOLDERS_META = "intermt_placeholders"


"""Message meta key holding the exact ``<Image, ...>`` strings an import replaced."""


AssistantImages = Literal["move", "drop"]


@dataclass(frozen=True)
class LinearOptions:
    """``token``: the image placeholder; ``assistant_images``: ``move`` or ``drop``;
    ``max_images`` and ``max_chars``: records beyond them are left out and counted;
    ``media``: the format carries videos and audio clips (``<video>``, ``<audio>``);
    ``tools``: it carries tool calls and tool messages. What a format does not carry is
    counted: media and reasoning parts as parts, tool use as whole paths."""

    token: str = "<image>"
    assistant_images: AssistantImages = "move"
    max_images: int | None = None
    max_chars: int | None = None
    media: bool = False
    tools: bool = False


@dataclass
class Turn:
    """One message as a trainer sees it: text with placeholders, its files, and the
    tool calls it makes."""

    role: Role
    text: str
    images: list[ImageRef] = field(default_factory=list)
    media: dict[str, list[MediaRef]] = field(default_factory=dict)
    calls: list[ToolCallPart] = field(default_factory=list)
    tool_call_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    """The message's meta, for what a writer restores (such as JSON spellings)."""


_UNHELD = {VideoPart: "video parts", AudioPart: "audio parts", ReasoningPart: "reasoning parts"}
"""How a loss report names the parts a layout leaves out."""


def linearize(
    path: Sequence[Message], options: LinearOptions, loss: LossReport
) -> list[Turn] | None:
    """Flatten a path into turns; None (counted in ``loss``) when it cannot be expressed
    because a text already contains a placeholder, or it uses tools the format lacks."""
    turns: list[Turn] = []
    pending: list[ImageRef] = []
    token = options.token
    tokens = (token, *MEDIA_TOKENS.values()) if options.media else (token,)
    for message in path:
        content = message.content
        if message.role == "tool" and not options.tools:
            loss.drop("paths with tool messages (the format has no tool role)")
            return None
        if len(content) == 1 and type(content[0]) is TextPart:  # the common case
            only = content[0].text
            if any(t in only for t in tokens):
                loss.drop("paths whose text contains a placeholder token")
                return None
            if message.role == "user" and pending:
                turns.append(Turn("user", token * len(pending) + only, pending))
                loss.change("assistant images moved to the next user turn", len(pending))
                pending = []
            else:
                turns.append(Turn(message.role, only, [], tool_call_id=message.tool_call_id,
                                  meta=message.meta))  # fmt: skip
            continue
        turn = Turn(message.role, "", tool_call_id=message.tool_call_id, meta=message.meta)
        text: list[str] = []
        placeholders = message.meta.get(PLACEHOLDERS_META) or [] if message.meta else []
        k = 0
        for part in content:
            kind = type(part)
            if kind is TextPart:
                if any(t in part.text for t in tokens):  # type: ignore[union-attr]
                    loss.drop("paths whose text contains a placeholder token")
                    return None
                text.append(part.text)  # type: ignore[union-attr]
            elif kind is ImagePart:
                if message.role != "assistant":
                    text.append(options.token)
                    turn.images.append(part.image)  # type: ignore[union-attr]
                    continue
                if k < len(placeholders):
                    text.append(str(placeholders[k]))
                k += 1
                if options.assistant_images == "move":
                    pending.append(part.image)  # type: ignore[union-attr]
                else:
                    loss.drop("assistant images")
            elif kind is VideoPart or kind is AudioPart:
                name = "video" if kind is VideoPart else "audio"
                if not options.media or message.role == "assistant":
                    loss.drop(_UNHELD[kind] + (" of answers" if options.media else ""))
                    continue
                text.append(MEDIA_TOKENS[name])
                turn.media.setdefault(name, []).append(getattr(part, name))
            elif kind is ToolCallPart:
                if not options.tools:
                    loss.drop("paths with tool calls (the format has no tool calls)")
                    return None
                turn.calls.append(part)  # type: ignore[arg-type]
            else:
                loss.drop(_UNHELD[ReasoningPart])
        if message.role == "user" and pending:
            text.insert(0, options.token * len(pending))
            turn.images[:0] = pending
            loss.change("assistant images moved to the next user turn", len(pending))
            pending = []
        turn.text = "".join(text)
        turns.append(turn)
    loss.drop("assistant images after the last user turn", len(pending))
    return turns


def uses_tools(messages: Sequence[Message], loss: LossReport) -> bool:
    """For layouts of text and images only: whether ``messages`` use tools (a tool
    message or call), which such a layout cannot express at all (the caller leaves the
    record out and counts it); otherwise their video, audio and reasoning parts are
    counted in ``loss`` as left out.

    >>> uses_tools([Message(id="a", role="assistant", content=[ReasoningPart("hm")])],
    ...            loss := LossReport(format="x")), dict(loss.dropped)
    (False, {'reasoning parts': 1})
    """
    kinds = [type(p) for m in messages for p in m.content]
    if ToolCallPart in kinds or any(m.role == "tool" for m in messages):
        return True
    for kind in kinds:
        if kind in _UNHELD:
            loss.drop(_UNHELD[kind])
    return False


def judgment_pairs(
    tree: DialogueTree, criterion: str, loss: LossReport
) -> Iterator[tuple[Judgment, Message, Message, list[Message]]]:
    """``(judgment, chosen, rejected, prompt_path)`` for each decided judgment whose
    two targets are siblings; ties, undecided and non-sibling judgments are counted."""
    view = TreeView(tree)
    for judgment in tree.judgments:
        outcome = judgment.outcome(criterion)
        if outcome is None:
            loss.drop(f"judgments without an outcome for {criterion!r}")
            continue
        if outcome == "tie":
            loss.drop("tied judgments")
            continue
        siblings = view.sibling_pair(judgment.a, judgment.b)
        if siblings is None:  # a record holds one prompt and two answers to it
            loss.drop(
                "global pairs of whole paths (a record needs two answers to one prompt)"
                if judgment.scope == "global"
                else "judgments whose targets are not siblings"
            )
            continue
        a, b = siblings
        chosen, rejected = (a, b) if outcome == "a" else (b, a)
        yield judgment, chosen, rejected, view.path_to(a.parent or "")


def sft_paths(tree: DialogueTree, loss: LossReport) -> Iterator[list[Message]]:
    """Root-to-leaf paths cut after their last answer, for supervised fine-tuning, and
    again the paths to messages where imported records ended beyond the leaves
    (``intermt_record_ends``: repeated records, prefixes of others).

    Each path's last message carries its record's unpaired label (see :data:`LABEL`).
    Counts what such records leave out: ratings, judgments, trailing questions, labels
    beyond the records that end at their answer.
    """
    labels = unpaired_labels(tree)
    loss.drop("ratings", len(tree.ratings) - sum(map(len, labels.values())))
    loss.drop("judgments", len(tree.judgments))
    view = TreeView(tree)
    paths = view.paths()
    if len(paths) > 1:
        loss.change("branches flattened into separate records", len(paths) - 1)
    for node in tree.nodes:
        for kept in node.meta.get(RECORD_ENDS, ()) if node.meta else ():
            *head, last = view.path_to(node.id)
            meta = {k: v for k, v in last.meta.items() if k not in (RECORD_ENDS, RECORD_KEYS)}
            paths.append([*head, structs.replace(last, meta={**meta, RECORD_KEYS: kept})])
    for k, path in enumerate(paths):
        waiting = labels.get(path[-1].id)
        if waiting:
            label = {LABEL: waiting.pop(0)}
            paths[k] = [*path[:-1], structs.replace(path[-1], meta={**path[-1].meta, **label})]
    loss.drop("unpaired labels beyond the records ending at their answer",
              sum(map(len, labels.values())))  # fmt: skip
    for path in paths:
        while path and path[-1].role != "assistant":
            path = path[:-1]
            loss.drop("trailing messages without an answer")
        if path:
            yield path
        else:
            loss.drop("paths without an answer")


def unpaired_labels(tree: DialogueTree) -> dict[str, list[bool]]:
    """Each answer's unpaired labels, in order: its local ``desirable`` ratings of 0 or
    1, in a tree that declares the ``kto`` set.

    >>> import intermt_schema as im
    >>> tree = im.DialogueTree(id="t", meta=im.TreeMeta(dimension_sets=["kto"]),
    ...     ratings=[im.Rating(target="a", scope="local", dimension="desirable", score=0)])
    >>> unpaired_labels(tree)
    {'a': [False]}
    """
    if KTO.name not in (tree.meta.dimension_sets or ()):
        return {}
    labels: dict[str, list[bool]] = {}
    for r in tree.ratings:
        if r.dimension == DESIRABLE and r.scope == "local" and r.score in (0, 1):
            labels.setdefault(r.target, []).append(r.score == 1)
    return labels


def within_limits(turns: Sequence[Turn], options: LinearOptions, loss: LossReport) -> bool:
    """Whether a record of these turns has at most ``options.max_images`` images and
    ``options.max_chars`` characters; one that has more is counted in ``loss``.

    >>> loss = LossReport(format="x")
    >>> within_limits([Turn("user", "Hello")], LinearOptions(max_chars=3), loss), dict(loss.dropped)
    (False, {'records over --max-chars 3': 1})
    """
    limit = options.max_images
    if limit is not None and sum(len(t.images) for t in turns) > limit:
        loss.drop(f"records over --max-images {limit}")
        return False
    if options.max_chars is not None and sum(len(t.text) for t in turns) > options.max_chars:
        loss.drop(f"records over --max-chars {options.max_chars}")
        return False
    return True


def sft_turns(
    trees: Iterable[DialogueTree], options: LinearOptions, loss: LossReport
) -> Iterator[tuple[DialogueTree, list[Message], list[Turn]]]:
    """``(tree, path, turns)`` for every path a supervised record can express."""
    for tree in trees:
        for path in sft_paths(tree, loss):
            turns = linearize(path, options, loss)
            if turns is not None and within_limits(turns, options, loss):
                yield tree, path, turns


def pair_turns(
    trees: Iterable[DialogueTree], options: LinearOptions, criterion: str, loss: LossReport
) -> Iterator[tuple[list[Turn], Turn, Turn, list[Message], Judgment]]:
    """``(prompt turns, chosen turn, rejected turn, chosen path, judgment)`` for every
    decided sibling pair (the chosen path: the prompt's messages and the chosen answer);
    images inside the answers are dropped and counted (trainers place none there)."""
    answers_only = replace(options, assistant_images="drop", max_images=None, max_chars=None)
    for tree in trees:
        for judgment, chosen, rejected, prompt in tree_pairs(tree, criterion, loss):
            turns = linearize(prompt, options, loss)
            sides = [linearize([m], answers_only, loss) for m in (chosen, rejected)]
            if turns is None or sides[0] is None or sides[1] is None:
                continue
            longer = max(sides[0][0], sides[1][0], key=lambda turn: len(turn.text))
            if within_limits([*turns, longer], options, loss):
                yield turns, sides[0][0], sides[1][0], [*prompt, chosen], judgment


def with_images(record: dict[str, Any], images: list[str]) -> dict[str, Any]:
    """``record`` with an ``images`` list, left out when there is none."""
    if images:
        record["images"] = images
    return record


def tree_pairs(
    tree: DialogueTree, criterion: str, loss: LossReport
) -> Iterator[tuple[Judgment, Message, Message, list[Message]]]:
    """``judgment_pairs`` plus the accounting of what preference records leave out."""
    loss.drop("ratings", len(tree.ratings))
    yield from judgment_pairs(tree, criterion, loss)


def record_id(tree: DialogueTree, *nodes: Message) -> str:
    """A stable record id: the tree id and the node ids that end the record."""
    return ":".join([tree.id, *(n.id for n in nodes)])


def check_alternation(
    roles: Sequence[str], user: str, assistant: str, system: str | None, end: str
) -> list[str]:
    """Problems with a role sequence: optional system first, then user/assistant
    alternating, ending with ``end``."""
    problems = []
    body = list(roles[1:] if roles and system is not None and roles[0] == system else roles)
    for i, role in enumerate(body):
        if role != (user if i % 2 == 0 else assistant):
            problems.append(f"turn {i} is {role!r}")
    if body and body[-1] != end:
        problems.append(f"ends with {body[-1]!r}, not {end!r}")
    if not body:
        problems.append("no turns")
    return problems
