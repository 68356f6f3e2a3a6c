"""LLaMA-Factory's Alpaca layout, both ways: supervised records and ranking records.

A supervised record is ``{"instruction", "input", "output"}`` with an optional
``system``, a ``history`` of earlier ``[question, answer]`` pairs and ``images``
(``<image>`` tokens in the text); a ranking record has ``chosen`` and ``rejected``
strings in place of ``output``. LLaMA-Factory asks ``instruction`` and ``input``
joined by a newline, so the question of a turn is that text; the ``input`` is kept in
the message's ``meta`` (``alpaca_input``) and split off again on export, so a record
comes back as it was. The entry for ``dataset_info.json`` is written beside the file.

>>> record = {"instruction": "Add these.", "input": "2 + 2", "output": "4"}
>>> detect(record)
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from msgspec import structs

from .._errors import check_choice
from ..io._json_records import read_json_records
from ..schema._structs import DialogueTree, ImageRef, Message
from ..tree._merge import Conversation
from ..validation._report import Issue
from ._linear import LinearOptions, Turn, pair_turns, sft_turns, with_images
from ._options import TRAINING_OPTIONS
from ._placing import ImageSink
from ._records import image_ref, load_records, preference, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format
from ._turns import turn_messages
from .sharegpt import TOKEN, add_dataset_info

__all__ = ["FORMAT", "MODES", "detect", "load", "records"]

MODES = ("sft", "ranking")
INPUT_KEY = "alpaca_input"
"""The message meta key that holds a question's ``input`` part, to split it off again."""


def _question(text: str, turn_meta: dict[str, Any]) -> tuple[str, str]:
    """``(instruction, input)`` of a question's text (see the module)."""
    given = turn_meta.get(INPUT_KEY)
    if isinstance(given, str) and given and text.endswith("\n" + given):
        return text[: -len(given) - 1], given
    return text, ""


def _record(turns: list[Turn], metas: list[dict[str, Any]]) -> dict[str, Any]:
    """The prompt part of a record: ``system``, ``history``, ``instruction``, ``input``."""
    record: dict[str, Any] = {}
    if turns and turns[0].role == "system":
        record["system"] = turns[0].text
        turns, metas = turns[1:], metas[1:]
    history = [
        [turns[i].text, turns[i + 1].text] for i in range(0, len(turns) - 1, 2)
    ]  # (question, answer) pairs before the last question
    instruction, given = _question(turns[-1].text, metas[-1])
    record.update(instruction=instruction, input=given)
    if history:
        record["history"] = history
    return record


def _metas(path: list[Message], turns: list[Turn]) -> list[dict[str, Any]]:
    """Each turn's source message meta (turns and path messages align one to one)."""
    return [m.meta for m in path] if len(path) == len(turns) else [{} for _ in turns]


def _sft(
    trees: Iterable[DialogueTree], sink: ImageSink, options: LinearOptions, loss: LossReport
) -> Iterator[dict[str, Any]]:
    for _, path, turns in sft_turns(trees, options, loss):
        if len(turns) < 2 or turns[-1].role != "assistant":
            loss.drop("paths that do not end with an answer")
            continue
        record = _record(turns[:-1], _metas(path, turns)[:-1])
        record["output"] = turns[-1].text
        record = with_images(record, [sink.place(ref) for t in turns for ref in t.images])
        yield restore_keys(record, path[-1], "alpaca/sft", loss)


def _ranking(
    trees: Iterable[DialogueTree],
    sink: ImageSink,
    options: LinearOptions,
    criterion: str,
    loss: LossReport,
) -> Iterator[dict[str, Any]]:
    for turns, chosen, rejected, path, judgment in pair_turns(trees, options, criterion, loss):
        record = _record(turns, _metas(path[: len(turns)], turns))
        record.update(chosen=chosen.text, rejected=rejected.text)
        record = with_images(record, [sink.place(ref) for t in turns for ref in t.images])
        yield restore_keys(record, judgment, "alpaca/pair", loss, path[-1])


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    mode: Literal["sft", "ranking"] = "sft",
    *,
    criterion: str = "overall",
    images: Literal["reference", "copy", "link"] = "reference",
    source_root: str | None = None,
    assistant_images: Literal["move", "drop"] = "move",
    image_folder: str | None = None,
    max_images: int | None = None,
    max_chars: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Alpaca records, one by one; ``image_folder`` receives copied or inline images."""
    check_choice("mode", mode, MODES)
    loss.format = f"alpaca ({mode})"
    sink = ImageSink(image_folder, source_root, images)
    options = LinearOptions(TOKEN, assistant_images, max_images, max_chars)
    if mode == "ranking":
        yield from _ranking(trees, sink, options, criterion, loss)
    else:
        yield from _sft(trees, sink, options, loss)
    sink.account(loss)


def finish(
    url: str, loss: LossReport | None = None, mode: str = "sft", *, name: str | None = None
) -> None:
    """Add the dataset's entry (``formatting: alpaca``) to ``dataset_info.json``,
    naming the optional columns (``system``, ``history``, ``images``, ``kto_tag``) only
    where some record has them: LLaMA-Factory reads every column it is given from every record."""
    ranking = mode == "ranking"
    present: set[str] = set()
    for _, record, _, _ in read_json_records(url):
        present.update(record if isinstance(record, dict) else ())
    columns = {"prompt": "instruction", "query": "input"}
    columns |= {k: k for k in ("history", "system", "images", "kto_tag") if k in present}
    columns |= {"chosen": "chosen", "rejected": "rejected"} if ranking else {"response": "output"}
    entry = {"file_name": os.path.basename(url), "formatting": "alpaca", "ranking": ranking}
    add_dataset_info(
        url, name or os.path.basename(url).split(".")[0], {**entry, "columns": columns}
    )


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} is not a string")
    return value


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    images: list[ImageRef] = [image_ref(p) for p in record.get("images") or []]
    raw: list[dict[str, str]] = []
    if record.get("system"):
        raw.append({"role": "system", "content": _text(record["system"], "system")})
    for i, pair in enumerate(record.get("history") or []):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"history[{i}] is not a [question, answer] pair")
        raw += [{"role": "user", "content": _text(pair[0], f"history[{i}][0]")}]
        raw += [{"role": "assistant", "content": _text(pair[1], f"history[{i}][1]")}]
    instruction = _text(record["instruction"], "instruction")
    given = _text(record.get("input") or "", "input")
    raw.append({"role": "user", "content": instruction + ("\n" + given if given else "")})
    ranking = "chosen" in record or "rejected" in record
    if not ranking:
        raw.append({"role": "assistant", "content": _text(record["output"], "output")})
    messages = turn_messages(raw, images, TOKEN, issues)
    question = len(messages) - (1 if not ranking else 0) - 1
    if given:
        meta = {**messages[question].meta, INPUT_KEY: given}
        messages[question] = structs.replace(messages[question], meta=meta)
    if not ranking:
        return [Conversation(messages=messages, record=number)]
    chosen, rejected = (
        turn_messages([{"role": "assistant", "content": _text(record[k], k)}], [], TOKEN, issues)
        for k in ("chosen", "rejected")
    )
    return preference(messages, chosen, rejected, number)


def load(url: str) -> ImportResult:
    """Read Alpaca records (supervised or ranking) back into trees."""
    return load_records(url, _parse, keys=_carried, kept_as="alpaca", written={"input"})


_KEYS = frozenset(
    {"instruction", "input", "output", "system", "history", "images", "chosen", "rejected"}
)
"""The record keys the reader carries into trees; others (``kto_tag``) are counted."""


def _carried(record: dict[str, Any]) -> frozenset[str]:
    """The keys the reader carries into trees; an empty ``system``, which makes no
    message, is kept as a record key and written back."""
    return _KEYS - {"system"} if record.get("system") == "" else _KEYS


def detect(record: dict[str, Any]) -> bool:
    """An Alpaca record: an ``instruction`` string with an ``output`` or a ``chosen``."""
    return isinstance(record.get("instruction"), str) and ("output" in record or "chosen" in record)


FORMAT = register_format(
    Format(
        name="alpaca",
        lossless=False,
        reader=load,
        suffix=".json",
        records=records,
        array=True,
        finish=finish,
        finish_options={"mode": MODES, "name": str},
        detect=detect,
        description="LLaMA-Factory Alpaca: instruction/input/output, or ranking (--mode)",
        export_options={
            "mode": MODES,
            **TRAINING_OPTIONS,
        },
    )
)
