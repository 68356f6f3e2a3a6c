"""InterMT release records into trees: each layout's parser, and the merge of one
tree's records by uuid (or by content where a layout has no uuids)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import structs

from ..._errors import check_choice
from ...schema._dimensions import INTERMT
from ...schema._structs import (
    ImagePart,
    ImageRef,
    Judgment,
    Message,
    Part,
    Rating,
    Scope,
    TextPart,
    TreeMeta,
)
from ...tree._merge import Conversation, merge_paths, path_ids
from ...validation._report import Issue
from ...validation._rules import rule_issue
from .._linear import PLACEHOLDERS_META
from .._records import load_records
from .._registry import ImportResult
from .._turns import placeholder_issue
from ._export import _texts_and_images
from ._layouts import (
    _OUTCOME,
    BLANKS_META,
    LAYOUTS,
    PLACEHOLDER,
    VARIANTS_META,
    Layout,
    detect_layout,
)

__all__ = ["load"]


def _images(value: Any) -> list[ImageRef]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("an image list must be a list of strings")
    return [ImageRef(path=v) for v in value if v]


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


def _user(turn: dict[str, Any], uuid_key: str | None, image_key: str = "prompt_images") -> Message:
    given = turn.get(image_key)
    content: list[Part] = [ImagePart(image=r) for r in _images(given)]
    content.append(TextPart(_text(turn.get("prompt"), "prompt")))
    node_id = turn.get(uuid_key, "") if uuid_key else ""
    blanks = sum(1 for v in given or [] if v == "")  # the release writes [""] for none
    meta = {BLANKS_META: blanks} if blanks else {}
    return Message(id=str(node_id or ""), role="user", content=content, meta=meta)


def _assistant(
    text: str, given: Any, node_id: str, issues: list[Issue], origin: str, where: str
) -> Message:
    """An answer from its text and its image list as given (``""`` entries counted)."""
    images = _images(given)
    message = _answer(text, images, node_id, issues, origin, where)
    blanks = sum(1 for v in given or [] if v == "")
    if blanks:
        message = structs.replace(message, meta={**message.meta, BLANKS_META: blanks})
    return message


def _answer(
    text: str, images: list[ImageRef], node_id: str, issues: list[Issue], origin: str, where: str
) -> Message:
    found = PLACEHOLDER.findall(text)
    if found and len(found) == len(images):
        pieces = PLACEHOLDER.split(text)
        content: list[Part] = []
        for i, piece in enumerate(pieces):
            if piece:
                content.append(TextPart(piece))
            if i < len(images):
                content.append(ImagePart(image=images[i]))
        return Message(
            id=node_id, role="assistant", content=content, meta={PLACEHOLDERS_META: found}
        )
    if len(found) != len(images):
        issues.append(placeholder_issue(origin, where, len(images), len(found)))
    content = [TextPart(text), *(ImagePart(image=r) for r in images)]
    return Message(id=node_id, role="assistant", content=content)


def _scores(annotations: Any, target: str, scope_filter: Scope | None, key: Any) -> list[Rating]:
    if not isinstance(annotations, dict):
        return []
    ratings = []
    for dim, score in annotations.items():
        if dim.startswith("reason_") or isinstance(score, bool) or not isinstance(score, int):
            continue
        scope: Scope = INTERMT.get(dim).scope if dim in INTERMT else (scope_filter or "global")
        reason = annotations.get(f"reason_{dim}")
        ratings.append(
            Rating(
                target=target,
                scope=scope,
                dimension=dim,
                score=score,
                rationale=reason if isinstance(reason, str) else None,
                meta={"record": key},
            )
        )
    return ratings


def _flat(record: dict[str, Any], origin: str, issues: list[Issue], key: Any) -> list[Conversation]:
    messages: list[Message] = []
    for i, turn in enumerate(record["conversations"]):
        where = f"/conversations/{i}"
        if turn.get("round") != i + 1:
            issues.append(
                rule_issue(
                    "import.round_gap",
                    f"expected round {i + 1}",
                    file=origin,
                    path=where + "/round",
                )
            )
        messages.append(_user(turn, "prompt_uuid"))
        messages.append(
            _assistant(
                _text(turn.get("response"), "response"),
                turn.get("response_images"),
                str(turn.get("response_uuid") or ""),
                issues,
                origin,
                where + "/response",
            )
        )
    ids = path_ids(messages)
    ratings = _scores(record.get("annotation"), ids[-1], "global", key) if ids else []
    return [Conversation(messages=messages, ratings=ratings, origin=origin, record=key)]


def _score(
    record: dict[str, Any], origin: str, issues: list[Issue], key: Any
) -> list[Conversation]:
    messages: list[Message] = []
    local: list[tuple[int, Any]] = []
    global_annotations = None
    for i, turn in enumerate(record["conversations"]):
        if turn.get("round") == 0:
            global_annotations = turn.get("annotations")
            continue
        inner = turn["round_conversations"]
        messages.append(_user(inner, None))
        messages.append(
            _assistant(
                _text(inner.get("response"), "response"),
                inner.get("response_images"),
                "",
                issues,
                origin,
                f"/conversations/{i}/round_conversations/response",
            )
        )
        local.append((len(messages) - 1, turn.get("annotations")))
    ids = path_ids(messages)
    ratings = _scores(global_annotations, ids[-1], "global", key) if ids else []
    for position, scores in local:
        ratings += _scores(scores, ids[position], "local", key)
    return [Conversation(messages=messages, ratings=ratings, origin=origin, record=key)]


def _turns(turns: Iterable[dict[str, Any]], issues: list[Issue], origin: str) -> list[Message]:
    messages: list[Message] = []
    for i, turn in enumerate(turns):
        messages.append(_user(turn, None))
        messages.append(
            _assistant(
                _text(turn.get("response"), "response"),
                turn.get("response_images"),
                "",
                issues,
                origin,
                f"/front_convs/{i}/response",
            )
        )
    return messages


def _pair(record: dict[str, Any], origin: str, issues: list[Issue], key: Any) -> list[Conversation]:
    prefix = _turns(record.get("front_convs") or [], issues, origin)
    paired = record["paired_convs"]
    prefix.append(_user(paired, None))
    answers = [
        _assistant(
            _text(paired.get(f"response_{k}"), f"response_{k}"),
            paired.get(f"response_{k}_images"),
            "",
            issues,
            origin,
            f"/paired_convs/response_{k}",
        )
        for k in (1, 2)
    ]
    a_id = path_ids([*prefix, answers[0]])[-1]
    b_id = path_ids([*prefix, answers[1]])[-1]
    scope: Scope = "local" if "local_overall_preference" in record else "global"
    truth = record.get("local_overall_preference", record.get("overall_preference")) or {}
    outcomes = {
        k: _OUTCOME[v] for k, v in truth.items() if v in _OUTCOME and not isinstance(v, bool)
    }
    judgment = Judgment(
        a=a_id,
        b=b_id,
        scope=scope,
        outcomes=outcomes,
        meta={"record": key},
    )
    return [
        Conversation(
            messages=[*prefix, answers[0]], judgments=[judgment], origin=origin, record=key
        ),
        Conversation(messages=[*prefix, answers[1]], origin=origin, record=key),
    ]


def _upstream(
    record: dict[str, Any], origin: str, issues: list[Issue], key: Any
) -> list[Conversation]:
    meta_data = dict(record.get("meta_data") or {})
    meta = TreeMeta(
        source=meta_data.pop("ori_dataset", None),
        category=meta_data.pop("category", None),
        task=meta_data.pop("prompt_type", None),
        extra={"meta_data": meta_data, "prompt": record.get("prompt")},
    )
    messages = _turns(record.get("conversations") or [], issues, origin)
    return [Conversation(messages=messages, meta=meta, origin=origin, record=key)]


_IMPORTERS = {"flat": _flat, "score": _score, "pair": _pair, "upstream": _upstream}


def load(url: str, layout: Layout | None = None) -> ImportResult:
    """Import InterMT records (a JSON array or JSON Lines) into trees.

    The layout is detected per record unless given. Records that cannot be read are
    reported as ``import.bad_record`` issues and skipped; everything else is merged.
    """
    if layout is not None:
        check_choice("layout", layout, LAYOUTS)

    def parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
        kind = layout or detect_layout(record)
        if kind is None:
            raise ValueError("not a record of any InterMT layout")
        origin = f"{url} record {number}"
        return _IMPORTERS[kind](record, origin, issues, record.get("id", number))

    variants: list[Issue] = []
    result = load_records(url, parse, lambda convs: merge_paths(convs, _image_variants(variants)))
    result.issues += variants
    return result


def _image_variants(issues: list[Issue]) -> Any:
    """Accept a uuid seen again with the same text but other image paths -- the
    release stores one copy of an image per record -- and remember each record's
    paths, so that export gives every record its own."""

    def accept(kept: Message, incoming: Message, conv: Conversation) -> bool:
        kept_text, kept_images = _texts_and_images(kept)
        text, images = _texts_and_images(incoming)
        if kept.role != incoming.role or kept_text != text or len(kept_images) != len(images):
            return False
        variants = kept.meta.setdefault(VARIANTS_META, {})
        variants[str(conv.record)] = images
        issues.append(
            rule_issue(
                "merge.image_variant",
                f"message {kept.id!r} has other image paths here than "
                "in an earlier record; both are kept",
                file=conv.origin,
            )
        )
        return True

    return accept
