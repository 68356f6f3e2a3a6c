"""align-anything, the InterMT authors' training framework: its single-turn layouts,
both ways (``--mode``).

- ``supervised`` (text-image-to-text): ``{"prompt", "image", "response"}``, with
  ``<image_placeholder>`` where the image stands in the prompt;
- ``preference`` (text-image-to-text): ``{"question", "image", "better_response",
  "worse_response"}``; the image comes before the question;
- ``text-preference``: ``{"prompt", "response_0", "response_1", "better_response_id"}``
  (PKU-SafeRLHF's layout; its other keys, such as ``is_response_0_safe``, are kept and
  written back).

A record holds one question and one image at most; longer paths are counted in the
loss report. Image paths are relative to the data file's folder.

>>> detect({"question": "?", "image": "a.png", "better_response": "x", "worse_response": "y"})
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from .._errors import check_choice
from ..schema._structs import DialogueTree, ImagePart, ImageRef, Message, Part, TextPart
from ..tree._merge import Conversation
from ..validation._report import Issue
from ._kept import kept_keys
from ._linear import LinearOptions, Turn, pair_turns, sft_turns
from ._options import TRAINING_OPTIONS
from ._placing import ImageSink
from ._records import image_ref, load_records, preference, restore_keys
from ._registry import Format, ImportResult, LossReport, register_format
from ._turns import turn_messages

__all__ = ["FORMAT", "MODES", "TOKEN", "detect", "load", "records"]

TOKEN = "<image_placeholder>"
MODES = ("supervised", "preference", "text-preference")
NAME = "align-anything"


def _single(turns: list[Turn], loss: LossReport, images_allowed: int) -> Turn | None:
    """The one question of a single-turn record, or None (counted)."""
    if len(turns) != 1 or turns[0].role != "user":
        loss.drop("paths with more than one question, or a system message (single-turn layout)")
        return None
    if len(turns[0].images) > images_allowed:
        loss.drop(f"records with more than {images_allowed} image(s)")
        return None
    return turns[0]


def _image(sink: ImageSink, turn: Turn) -> dict[str, Any]:
    return {"image": sink.place(turn.images[0])} if turn.images else {}


def _records(
    trees: Iterable[DialogueTree], mode: str, sink: ImageSink, options: LinearOptions,
    criterion: str, loss: LossReport,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    if mode == "supervised":
        for _, path, turns in sft_turns(trees, options, loss):
            question = _single(turns[:-1], loss, 1)
            if question is not None:
                record = {"prompt": question.text, **_image(sink, question),
                          "response": turns[-1].text}  # fmt: skip
                yield restore_keys(record, path[-1], f"{NAME}/sft", loss)
        return
    for turns, chosen, rejected, (*_, answer), judgment in pair_turns(
        trees, options, criterion, loss
    ):
        question = _single(turns, loss, 1 if mode == "preference" else 0)
        if question is None:
            continue
        if mode == "preference":
            record = {"question": question.text.replace(TOKEN, ""), **_image(sink, question),
                      "better_response": chosen.text, "worse_response": rejected.text}  # fmt: skip
        else:
            kept = kept_keys(judgment, answer).get(f"{NAME}/pair", {})
            first = kept.get("better_response_id", 0)
            pair = [chosen.text, rejected.text] if first != 1 else [rejected.text, chosen.text]
            record = {"prompt": question.text, "response_0": pair[0], "response_1": pair[1],
                      "better_response_id": 1 if first == 1 else 0}  # fmt: skip
        yield restore_keys(record, judgment, f"{NAME}/pair", loss, answer)


def records(
    trees: Iterable[DialogueTree],
    loss: LossReport,
    mode: Literal["supervised", "preference", "text-preference"] = "supervised",
    *,
    criterion: str = "overall",
    images: Literal["reference", "copy", "link"] = "reference",
    source_root: str | None = None,
    assistant_images: Literal["move", "drop"] = "move",
    image_folder: str | None = None,
    max_images: int | None = None,
    max_chars: int | None = None,
) -> Iterator[dict[str, Any]]:
    """align-anything records of one layout (``mode``), one by one."""
    check_choice("mode", mode, MODES)
    loss.format = f"{NAME} ({mode})"
    sink = ImageSink(image_folder, source_root, images)
    options = LinearOptions(TOKEN, assistant_images, max_images, max_chars)
    yield from _records(trees, mode, sink, options, criterion, loss)
    sink.account(loss)


def _text(record: dict[str, Any], key: str) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def _answer(text: str) -> list[Message]:
    return [Message(id="", role="assistant", content=[TextPart(text)])]


def _parse(record: dict[str, Any], number: int, issues: list[Issue]) -> list[Conversation]:
    image = record.get("image")
    if image is not None and not isinstance(image, str):
        raise ValueError("image is not a string")
    refs: list[ImageRef] = [image_ref(image)] if image else []
    if "better_response" in record or "worse_response" in record:
        content: list[Part] = [*(ImagePart(image=r) for r in refs)]
        content.append(TextPart(_text(record, "question")))
        prompt = [Message(id="", role="user", content=content)]
        chosen, rejected = (_text(record, k) for k in ("better_response", "worse_response"))
        return preference(prompt, _answer(chosen), _answer(rejected), number)
    if "response_0" in record:
        better = record.get("better_response_id")
        if better not in (0, 1) or isinstance(better, bool):
            raise ValueError("better_response_id is not 0 or 1")
        prompt = turn_messages([{"role": "user", "content": _text(record, "prompt")}], [], TOKEN,
                               issues)  # fmt: skip
        texts = [_text(record, "response_0"), _text(record, "response_1")]
        return preference(prompt, _answer(texts[better]), _answer(texts[1 - better]), number)
    raw = [{"role": "user", "content": _text(record, "prompt")},
           {"role": "assistant", "content": _text(record, "response")}]  # fmt: skip
    return [Conversation(messages=turn_messages(raw, refs, TOKEN, issues), record=number)]


def load(url: str) -> ImportResult:
    """Read align-anything records (any of the three layouts) into trees."""
    return load_records(url, _parse, keys=_KEYS, kept_as=NAME)


_KEYS = frozenset({"prompt", "question", "image", "response", "better_response",
                   "worse_response", "response_0", "response_1"})  # fmt: skip
"""The keys the reader carries into trees; ``better_response_id`` and the rest are
kept on the record's answer and written back."""


def detect(record: dict[str, Any]) -> bool:
    """An align-anything record of one of the three layouts."""
    if "better_response" in record and "question" in record:
        return True
    if "response_0" in record and "response_1" in record:
        return "better_response_id" in record
    return isinstance(record.get("prompt"), str) and isinstance(record.get("response"), str)


FORMAT = register_format(
    Format(
        name=NAME,
        lossless=False,
        reader=load,
        suffix=".json",
        records=records,
        array=True,
        detect=detect,
        description="align-anything: supervised, preference (text-image-to-text) or "
        "text-preference records (--mode)",
        export_options={"mode": MODES, **TRAINING_OPTIONS},
    )
)
