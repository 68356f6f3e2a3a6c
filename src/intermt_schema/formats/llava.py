"""LLaVA conversations (one record per path) and the LLaVA-NeXT DPO layout.

- ``{"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}``; ``image`` is a
  string for one image and a list for several (LLaVA-NeXT), and absent for text-only.
- ``<image>`` stands where each image is, in order. ``single_image=True`` writes for
  original LLaVA: ``"<image>\\n"`` opens the turn holding the image, and paths with
  more than one image are refused and counted.
- Roles alternate from ``human``; system messages are dropped and counted.
- DPO (``mode="dpo"``): ``{"id", "image", "prompt", "chosen", "rejected"}`` for pairs
  whose prompt is a single question; multi-turn pairs are refused and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from .._errors import check_choice
from ..schema._structs import DialogueTree
from ..tree._merge import Conversation
from ..validation._report import Issue
from ._linear import (
    LinearOptions,
    Turn,
    check_alternation,
    linearize,
    record_id,
    sft_turns,
    tree_pairs,
    within_limits,
)
from ._options import TRAINING_OPTIONS
from ._placing import ImageSink
from ._records import has_turns, image_ref, load_records, preference, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format
from ._turns import turn_messages

__all__ = ["FORMAT", "MODES", "TOKEN", "check_record", "detect", "export", "load", "records"]

TOKEN = "<image>"


_FROM = {"user": "human", "assistant": "gpt"}


def _image_field(paths: list[str]) -> dict[str, Any]:
    if not paths:
        return {}
    return {"image": paths[0] if len(paths) == 1 else paths}


def _turns(turns: list[Turn], loss: LossReport, single: bool) -> list[Turn] | None:
    spoken = [t for t in turns if t.role != "system"]
    loss.drop("system messages", len(turns) - len(spoken))
    if not spoken or spoken[0].role != "user":
        loss.drop("paths that do not start with a question")
        return None
    if single:
        if sum(len(t.images) for t in spoken) > 1:
            loss.drop("paths with more than one image (single-image mode)")
            return None
        spoken = [
            Turn(t.role, (TOKEN + "\n" if t.images else "") + t.text.replace(TOKEN, ""), t.images)
            for t in spoken
        ]
    return spoken


def _sft(
    trees: Iterable[DialogueTree],
    sink: ImageSink,
    options: LinearOptions,
    single: bool,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    for tree, path, turns in sft_turns(trees, options, loss):
        spoken = _turns(turns, loss, single)
        if spoken is not None:
            paths = [sink.place(ref) for t in spoken for ref in t.images]
            record = {
                "id": record_id(tree, path[-1]),
                **_image_field(paths),
                "conversations": [{"from": _FROM[t.role], "value": t.text} for t in spoken],
            }
            record = restore_keys(record, path[-1], "llava/sft", loss)
            if "images" in record:  # Mantis lists the images under "images"
                record.pop("image", None)
                record["images"] = paths
            elif isinstance(record.get("image"), list):  # one image given as a list
                record["image"] = paths
            yield record


def _dpo(
    trees: Iterable[DialogueTree],
    sink: ImageSink,
    options: LinearOptions,
    criterion: str,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    for tree in trees:
        for judgment, chosen, rejected, prompt in tree_pairs(tree, criterion, loss):
            turns = linearize(prompt, options, loss)
            spoken = _turns(turns, loss, False) if turns is not None else None
            if spoken is None:
                continue
            if len(spoken) != 1:
                loss.drop("pairs with a multi-turn prompt (DPO layout is single-turn)")
                continue
            drop = LinearOptions(options.token, "drop")
            answers = [linearize([m], drop, loss) for m in (chosen, rejected)]
            if answers[0] is None or answers[1] is None:
                continue
            longer = max(answers[0][0], answers[1][0], key=lambda turn: len(turn.text))
            if not within_limits([*spoken, longer], options, loss):
                continue
            paths = [sink.place(ref) for ref in spoken[0].images]
            record = {
                "id": record_id(tree, chosen, rejected),
                **_image_field(paths),
                "prompt": spoken[0].text,
                "chosen": answers[0][0].text,
                "rejected": answers[1][0].text,
            }
            yield restore_keys(record, judgment, "llava/pair", loss, chosen)


MODES = ("sft", "dpo")


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    mode: Literal["sft", "dpo"] = "sft",
    *,
    single_image: bool = False,
    criterion: str = "overall",
    images: Literal["reference", "copy", "link"] = "reference",
    source_root: str | None = None,
    assistant_images: Literal["move", "drop"] = "move",
    image_folder: str | None = None,
    max_images: int | None = None,
    max_chars: int | None = None,
) -> Iterator[dict[str, Any]]:
    """LLaVA records, one by one; ``image_folder`` receives copied or inline images."""
    check_choice("mode", mode, MODES)
    loss.format = f"llava ({mode})"
    sink = ImageSink(image_folder, source_root, images)
    options = LinearOptions(TOKEN, assistant_images, max_images, max_chars)
    if mode == "dpo":
        yield from _dpo(trees, sink, options, criterion, loss)
    else:
        yield from _sft(trees, sink, options, single_image, loss)
    sink.account(loss)


def export(
    trees: Iterable[DialogueTree],
    url: str,
    mode: Literal["sft", "dpo"] = "sft",
    **options: Any,
) -> LossReport:
    """Write a LLaVA JSON array (``options`` as for :func:`records`); images are
    named relative to the image folder (the output folder when copying or linking,
    else the dataset root)."""
    return FORMAT.export(trees, url, mode=mode, **options)


def check_record(record: dict[str, Any]) -> list[str]:
    """What a LLaVA trainer would trip on: role order and ``<image>`` count.

    >>> check_record({"id": "x", "conversations": [{"from": "gpt", "value": "<image>hi"}]})
    ["turn 0 is 'gpt'", '1 <image> tokens for 0 images']
    """
    image = record.get("image")
    count = 0 if image is None else 1 if isinstance(image, str) else len(image)
    if "prompt" in record:
        texts = [record["prompt"]]
        problems = []
    else:
        turns = record.get("conversations") or []
        texts = [t.get("value", "") for t in turns]
        roles = [t.get("from") for t in turns]
        problems = check_alternation(roles, "human", "gpt", None, "gpt")
    tokens = sum(str(t).count(TOKEN) for t in texts)
    if tokens != count:
        problems.append(f"{tokens} <image> tokens for {count} images")
    return problems


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    image = (
        record["images"] if "images" in record and "image" not in record else record.get("image")
    )
    paths = [image] if isinstance(image, str) else image or []
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError("image must be a path or a list of paths")
    refs = [image_ref(p) for p in paths]
    if "prompt" in record:
        prompt = turn_messages([{"from": "human", "value": record["prompt"]}], refs, TOKEN, issues)
        chosen, rejected = (
            turn_messages([{"from": "gpt", "value": record[k]}], [], TOKEN, issues)
            for k in ("chosen", "rejected")
        )
        return preference(prompt, chosen, rejected, number)
    messages = turn_messages(record.get("conversations") or [], refs, TOKEN, issues)
    if not messages:
        raise ValueError("the record holds no conversation")
    return [Conversation(messages=messages, record=number)]


def load(url: str) -> ImportResult:
    """Read LLaVA records (conversations or DPO) back into trees."""
    return load_records(url, _parse, keys=_carried, kept_as="llava")


_KEYS = frozenset({"image", "conversations", "prompt", "chosen", "rejected"})


def _carried(record: dict[str, Any]) -> frozenset[str]:
    """The record keys the reader carries into trees; the others (``id``,
    ``data_source``, Mantis's ``images`` list, which the reader also reads, and an
    ``image`` list of one, which a writer would spell as a string) are kept and
    written back."""
    image = record.get("image")
    return _KEYS - {"image"} if isinstance(image, list) and len(image) == 1 else _KEYS


def detect(record: dict[str, Any]) -> bool:
    """A LLaVA record: ``conversations`` of ``from``/``value`` turns with an ``id`` or
    ``image``, or a DPO record whose ``prompt`` is a string."""
    if "prompt" in record and "chosen" in record:  # TRL's standard rows have no id or image
        return isinstance(record["prompt"], str) and ("id" in record or "image" in record)
    return has_turns(record) and ("id" in record or "image" in record)


FORMAT = register_format(
    Format(
        name="llava",
        lossless=False,
        reader=load,
        suffix=".json",
        records=records,
        array=True,
        detect=detect,
        description="LLaVA / LLaVA-NeXT conversations, or LLaVA-NeXT DPO (--mode dpo)",
        export_options={
            "mode": MODES,
            "single_image": bool,
            **TRAINING_OPTIONS,
        },
    )
)
