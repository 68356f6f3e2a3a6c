"""Trees into InterMT release records: one record per rated path (flat, score), per
judgment (pair) or per path (upstream)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..._errors import check_choice
from ...schema._structs import (
    DialogueTree,
    ImagePart,
    Message,
    Rating,
    TextPart,
)
from ...tree._view import TreeView
from .._linear import PLACEHOLDERS_META, uses_tools
from .._registry import LossReport
from ._layouts import _CODE, BLANKS_META, LAYOUTS, VARIANTS_META, Layout

__all__ = ["records"]


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
    images += [""] * int(message.meta.get(BLANKS_META) or 0)
    return "".join(text), images


def _rounds(path: list[Message], loss: LossReport) -> list[tuple[Message, Message]] | None:
    if uses_tools(path, loss):
        loss.drop("paths with tool use (InterMT turns are a question and an answer)")
        return None
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
    local: dict[str, dict[str, int | float]] = {}
    global_: dict[str, dict[str, int | float]] = {}
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
        siblings = view.sibling_pair(judgment.a, judgment.b)
        if siblings is None:
            loss.drop("judgments whose targets are not siblings")
            continue
        a, b = siblings
        rounds = _rounds([*view.path_to(a.parent or ""), a], loss)
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
    layout: Layout = "flat",
) -> Iterator[dict[str, Any]]:
    """InterMT records of one layout; flat records keep their source ``id`` or are
    numbered in order. Image paths are written as stored."""
    check_choice("layout", layout, LAYOUTS)
    loss.format = f"intermt-bench ({layout})"
    number = 0
    for tree in trees:
        for record in _EXPORTERS[layout](tree, loss):
            number += 1
            if layout == "flat" and "id" not in record:
                record = {"id": number, **record}
            yield record
