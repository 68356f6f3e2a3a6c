"""InterMT release layouts: flat turns, score evaluation, pair comparison, upstream QA.

Each record is one root-to-leaf path (or, for pairs, a path with two final answers);
importing merges the records of one tree by ``prompt_uuid``/``response_uuid``, or by
content where a layout has no uuids. Exporting writes one record per rated path (flat,
score), per judgment (pair) or per path (upstream).

- ``""`` image slots are dropped; a missing image key means no images.
- ``<Image, description>`` placeholders in answers become image parts at their place
  when their count equals the images'; the exact strings are kept in the message's
  ``meta["intermt_placeholders"]`` so export writes the text back unchanged. When the
  counts differ the text stays verbatim, the images are appended, and
  ``import.placeholder_mismatch`` is reported.
- Text is never changed: pipeline leftovers such as ``]]`` stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from .._dimensions import INTERMT
from .._report import Issue
from .._schema import (
    DialogueTree,
    ImagePart,
    ImageRef,
    Judgment,
    Message,
    Outcome,
    Part,
    Rating,
    Scope,
    TextPart,
    TreeMeta,
)
from ..tree import Conversation, TreeView, merge_paths, path_ids
from ._base import (
    Format,
    ImportResult,
    LossReport,
    export_records,
    load_records,
    register_format,
)
from ._linear import PLACEHOLDERS_META

__all__ = ["LAYOUTS", "detect_layout", "export", "load", "records"]

LAYOUTS = ("flat", "score", "pair", "upstream")
VARIANTS_META = "intermt_image_variants"
"""Message meta key: record id -> the image paths that record gave the same message."""
PLACEHOLDER = re.compile(r"<Image,[^<>]*>")
_OUTCOME: dict[int, Outcome] = {1: "a", 2: "b", 0: "tie"}
_CODE = {v: k for k, v in _OUTCOME.items()}


def detect_layout(record: Any) -> str | None:
    """The layout of one record, or None when it is none of them.

    >>> detect_layout({"front_convs": [], "paired_convs": {}})
    'pair'
    """
    if not isinstance(record, dict):
        return None
    if "paired_convs" in record:
        return "pair"
    if "meta_data" in record:
        return "upstream"
    convs = record.get("conversations")
    if isinstance(convs, list) and convs and isinstance(convs[0], dict):
        if any(isinstance(c, dict) and "round_conversations" in c for c in convs):
            return "score"
        return "flat"
    return None


# ---------------------------------------------------------------- import


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
    content: list[Part] = [ImagePart(image=r) for r in _images(turn.get(image_key))]
    content.append(TextPart(_text(turn.get("prompt"), "prompt")))
    node_id = turn.get(uuid_key, "") if uuid_key else ""
    return Message(id=str(node_id or ""), role="user", content=content)


def _assistant(
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
        issues.append(
            Issue(
                code="import.placeholder_mismatch",
                severity="warning",
                file=origin,
                path=where,
                message=f"{len(found)} placeholders for {len(images)} images; text kept "
                "verbatim and images appended",
            )
        )
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
                Issue(
                    code="import.round_gap",
                    severity="warning",
                    file=origin,
                    path=where + "/round",
                    message=f"expected round {i + 1}",
                )
            )
        messages.append(_user(turn, "prompt_uuid"))
        messages.append(
            _assistant(
                _text(turn.get("response"), "response"),
                _images(turn.get("response_images")),
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
                _images(inner.get("response_images")),
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
                _images(turn.get("response_images")),
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
            _images(paired.get(f"response_{k}_images")),
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


def load(url: str, layout: str | None = None) -> ImportResult:
    """Import InterMT records (a JSON array or JSON Lines) into trees.

    The layout is detected per record unless given. Records that cannot be read are
    reported as ``import.bad_record`` issues and skipped; everything else is merged.
    """
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; layouts: {', '.join(LAYOUTS)}")

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
            Issue(
                code="merge.image_variant",
                severity="info",
                file=conv.origin,
                message=f"message {kept.id!r} has other image paths here than "
                "in an earlier record; both are kept",
            )
        )
        return True

    return accept


# ---------------------------------------------------------------- export


def _texts_and_images(message: Message, record: Any = None) -> tuple[str, list[str]]:
    """The message as InterMT text and image paths (those ``record`` gave, if any)."""
    placeholders = message.meta.get(PLACEHOLDERS_META) or []
    text: list[str] = []
    images: list[str] = []
    for part in message.content:
        if type(part) is TextPart:
            text.append(part.text)
        elif type(part) is ImagePart:
            if message.role == "assistant" and len(images) < len(placeholders):
                text.append(str(placeholders[len(images)]))
            images.append(part.image.path or part.image.uri or "")
    variants = message.meta.get(VARIANTS_META) or {}
    if record is not None and str(record) in variants:
        images = list(variants[str(record)])
    return "".join(text), images


def _rounds(path: list[Message], loss: LossReport) -> list[tuple[Message, Message]] | None:
    pairs = TreeView(DialogueTree(id="")).turns(path)
    if any(m.role == "system" for m in path):
        loss.drop("system messages")
    if not pairs or any(a is None for _, a in pairs):
        loss.drop("paths that do not end with an answer")
        return None
    return [(u, a) for u, a in pairs if a is not None]


def _flat_turn(number: int, user: Message, answer: Message, record: Any = None) -> dict[str, Any]:
    prompt, prompt_images = _texts_and_images(user, record)
    response, response_images = _texts_and_images(answer, record)
    return {
        "round": number,
        "prompt": prompt,
        "prompt_images": prompt_images,
        "prompt_uuid": user.id,
        "response": response,
        "response_images": response_images,
        "response_uuid": answer.id,
    }


def _grouped(ratings: list[Rating]) -> list[tuple[Any, dict[str, Any]]]:
    """Ratings of one target as ``(record id, annotation)``: by the record they came
    from where known, else the k-th score of each dimension goes to the k-th record
    (a path rated twice gives two records)."""
    groups: dict[Any, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for r in ratings:
        k = counts.get(r.dimension, 0)
        counts[r.dimension] = k + 1
        key = r.meta.get("record", ("#", k))
        annotation = groups.setdefault(key if isinstance(key, (int, str)) else ("#", k), {})
        annotation[r.dimension] = r.score
        if r.rationale is not None:
            annotation[f"reason_{r.dimension}"] = r.rationale
    return [(None if isinstance(k, tuple) else k, a) for k, a in groups.items()]


def _flat_records(tree: DialogueTree, loss: LossReport) -> Iterator[dict[str, Any]]:
    view = TreeView(tree)
    by_target: dict[str, list[Rating]] = {}
    for r in tree.ratings:
        if r.scope == "global":
            by_target.setdefault(r.target, []).append(r)
        else:
            loss.drop("local ratings")
    loss.drop("judgments", len(tree.judgments))
    for path, node in view.walk():
        groups = _grouped(by_target.get(node.id, []))
        if not groups and not view.children(node.id):
            groups = [(None, {})]
        if not groups:
            continue
        rounds = _rounds(list(path), loss)
        if rounds is None:
            continue
        for record, annotation in groups:
            turns = [_flat_turn(i + 1, u, a, record) for i, (u, a) in enumerate(rounds)]
            head = {} if record is None else {"id": record}
            yield {**head, "conversations": turns, "annotation": annotation}


def _score_records(tree: DialogueTree, loss: LossReport) -> Iterator[dict[str, Any]]:
    view = TreeView(tree)
    local: dict[str, dict[str, int]] = {}
    global_: dict[str, dict[str, int]] = {}
    for r in tree.ratings:
        into = local if r.scope == "local" else global_
        if r.dimension in into.setdefault(r.target, {}):
            loss.drop("second ratings of the same target and dimension")
        into[r.target].setdefault(r.dimension, r.score)
    loss.drop("judgments", len(tree.judgments))
    for path in view.paths():
        rounds = _rounds(path, loss)
        if rounds is None:
            continue
        record: list[dict[str, Any]] = [{"round": 0, "annotations": global_.get(path[-1].id, {})}]
        for i, (user, answer) in enumerate(rounds):
            prompt, prompt_images = _texts_and_images(user)
            response, response_images = _texts_and_images(answer)
            record.append(
                {
                    "round": i + 1,
                    "round_conversations": {
                        "prompt": prompt,
                        "prompt_images": prompt_images,
                        "response": response,
                        "response_images": response_images,
                    },
                    "annotations": local.get(answer.id, {}),
                }
            )
        yield {"conversations": record}


def _pair_records(tree: DialogueTree, loss: LossReport) -> Iterator[dict[str, Any]]:
    view = TreeView(tree)
    loss.drop("ratings", len(tree.ratings))
    for judgment in tree.judgments:
        a, b = view.by_id.get(judgment.a), view.by_id.get(judgment.b)
        if a is None or b is None or a.parent != b.parent or a.parent is None:
            loss.drop("judgments whose targets are not siblings")
            continue
        rounds = _rounds([*view.path_to(a.parent), a], loss)
        if rounds is None:
            continue
        front = []
        for i, (user, answer) in enumerate(rounds[:-1]):
            turn = _flat_turn(i + 1, user, answer)
            front.append(
                {
                    k: turn[k]
                    for k in ("round", "prompt", "prompt_images", "response", "response_images")
                }
            )
        prompt, prompt_images = _texts_and_images(rounds[-1][0])
        r1, r1_images = _texts_and_images(a)
        r2, r2_images = _texts_and_images(b)
        key = "local_overall_preference" if judgment.scope == "local" else "overall_preference"
        yield {
            "front_convs": front,
            "paired_convs": {
                "round": len(rounds),
                "prompt": prompt,
                "prompt_images": prompt_images,
                "response_1": r1,
                "response_2": r2,
                "response_1_images": r1_images,
                "response_2_images": r2_images,
            },
            key: {d: _CODE[o] for d, o in judgment.outcomes.items()},
        }


def _upstream_records(tree: DialogueTree, loss: LossReport) -> Iterator[dict[str, Any]]:
    loss.drop("ratings", len(tree.ratings))
    loss.drop("judgments", len(tree.judgments))
    extra = tree.meta.extra
    meta_data = {
        "ori_dataset": tree.meta.source,
        "prompt_type": tree.meta.task,
        "category": tree.meta.category,
        **(extra.get("meta_data") or {}),
    }
    for path in TreeView(tree).paths():
        rounds = _rounds(path, loss)
        if rounds is None:
            continue
        convs = []
        for user, answer in rounds:
            prompt, prompt_images = _texts_and_images(user)
            response, response_images = _texts_and_images(answer)
            convs.append(
                {
                    "prompt": prompt,
                    "prompt_images": prompt_images,
                    "response": response,
                    "response_images": response_images,
                }
            )
        seed = extra.get("prompt", convs[0]["prompt"] if convs else "")
        yield {"meta_data": meta_data, "prompt": seed, "conversations": convs}


_EXPORTERS = {
    "flat": _flat_records,
    "score": _score_records,
    "pair": _pair_records,
    "upstream": _upstream_records,
}


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    layout: str = "flat",
    *,
    source_root: str | None = None,
) -> Iterator[dict[str, Any]]:
    """InterMT records of one layout; flat records keep their source ``id`` or are
    numbered in order. Image paths are written as stored, so ``source_root`` is not
    needed."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; layouts: {', '.join(LAYOUTS)}")
    loss.format = f"intermt-bench ({layout})"
    number = 0
    for tree in trees:
        for record in _EXPORTERS[layout](tree, loss):
            number += 1
            if layout == "flat" and "id" not in record:
                record = {"id": number, **record}
            yield record


def export(
    trees: Iterable[DialogueTree], url: str, layout: str = "flat", **options: Any
) -> LossReport:
    """Write trees as InterMT records (a JSON array, as the release ships them); image
    paths are written as stored, relative to the dataset root."""
    return export_records(FORMAT, trees, url, layout=layout, **options)


FORMAT = register_format(
    Format(
        name="intermt-bench",
        lossless=False,
        export=export,
        load=load,
        suffix=".json",
        records=records,
        array=True,
        description="InterMT release records: flat turns, score evaluation, pair comparison, "
        "upstream QA (--layout)",
    )
)
