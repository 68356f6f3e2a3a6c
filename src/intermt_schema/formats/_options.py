"""The options formats take, declared once, and checked where they enter.

Each format declares the options of its export and its load as a mapping from name to
what is valid: a tuple of choices, ``bool``, ``str`` (free text, such as a folder), or
:data:`CRITERION` (``overall`` or a registered dimension). :func:`check_options`
refuses a name the format does not take, naming the formats that do, and a value
that is not valid, listing those that are.

>>> check_options("trl", {"mode": ("sft", "kto")}, {"mode": "dpo"})
Traceback (most recent call last):
...
intermt_schema.OptionError: trl: unknown mode 'dpo'; choose from sft, kto
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypedDict

from .._errors import OptionError, check_choice
from ..io._tables import Level

__all__ = [
    "ASSISTANT_IMAGES",
    "CRITERION",
    "IMAGES",
    "TRAINING_OPTIONS",
    "AssistantImages",
    "Choices",
    "ExportOptions",
    "ImagesMode",
    "LoadOptions",
    "check_criterion",
    "check_options",
]

ImagesMode = Literal["reference", "copy", "link"]
AssistantImages = Literal["move", "drop"]

IMAGES: tuple[ImagesMode, ...] = ("reference", "copy", "link")
"""Training formats: name image paths as they are, or copy or link the files beside."""
ASSISTANT_IMAGES: tuple[AssistantImages, ...] = ("move", "drop")
"""Images inside answers: move them to the next question, or drop them (counted)."""


def check_criterion(criterion: str) -> None:
    """``overall`` or a dimension of a registered dimension set.

    >>> check_criterion("text_quality")
    >>> check_criterion("text_qualty")
    Traceback (most recent call last):
    ...
    intermt_schema.OptionError: unknown criterion 'text_qualty'; choose from overall, ...
    """
    from ..schema._dimensions import known_dimensions

    check_choice("criterion", criterion, ["overall", *known_dimensions()])


CRITERION: Callable[[str], None] = check_criterion
"""The declaration of a criterion option: ``overall`` or a registered dimension."""

Choices = tuple[str, ...] | type[bool] | type[str] | type[int] | Callable[[str], None]
"""What an option accepts: these choices, a bool, any string, a positive integer, or
what a check allows."""

TRAINING_OPTIONS: dict[str, Choices] = {
    "criterion": CRITERION,
    "images": IMAGES,
    "source_root": str,
    "assistant_images": ASSISTANT_IMAGES,
    "image_folder": str,
    "max_images": int,
    "max_chars": int,
}
"""The export options every training format takes besides its own (``mode``...): the
preference criterion, how images are placed and from where, what happens to images in
answers, and the opt-in filters (records with more images or characters are left out,
and counted in the loss report)."""


class ExportOptions(TypedDict, total=False):
    """Every export option; each format takes a subset (``intermt formats`` lists them)."""

    source_root: str | None
    level: Level
    layout: Literal["flat", "score", "pair", "upstream"]
    mode: str
    criterion: str
    images: ImagesMode
    assistant_images: AssistantImages
    single_image: bool
    urls: Literal["path", "data"]
    detail: Literal["auto", "low", "high"]
    style: str
    image_folder: str | None
    max_images: int | None
    max_chars: int | None


class LoadOptions(TypedDict, total=False):
    """Every load option; each format takes a subset."""

    layout: Literal["flat", "score", "pair", "upstream"]


def check_options(
    fmt: str,
    declared: Mapping[str, Choices],
    given: Mapping[str, object],
    *,
    takers: Callable[[str], list[str]] | None = None,
) -> None:
    """Raise :class:`OptionError` for an option ``fmt`` does not take or a value it
    does not accept; ``takers(name)`` names the formats that do take an option."""
    for name, value in given.items():
        if name not in declared:
            others = takers(name) if takers else []
            where = f"; formats that take it: {', '.join(others)}" if others else ""
            takes = ", ".join(sorted(declared)) or "none"
            raise OptionError(f"{fmt} takes no option {name!r} (it takes: {takes}){where}")
        kind = declared[name]
        if value is None:
            continue
        try:
            if isinstance(kind, tuple):
                check_choice(name, value, kind)
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise OptionError(f"{name} must be a positive integer, not {value!r}")
            elif kind is bool or kind is str:
                if not isinstance(value, kind):
                    raise OptionError(f"{name} must be a {kind.__name__}, not {value!r}")
            elif callable(kind):
                if not isinstance(value, str):
                    raise OptionError(f"{name} must be a str, not {value!r}")
                kind(value)
        except OptionError as exc:
            raise OptionError(f"{fmt}: {exc}") from None
